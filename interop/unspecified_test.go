package interop

import (
	"testing"

	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/eval"
)

// TestUnspecifiedReportedOnce checks the one difference every runtime has
// with capspec: connects and sends to unspecified addresses (SPEC §3.3),
// which capspec denies whatever the rules say and the runtimes allow when
// a name resolves to one. It is one difference per export or import, on
// the first rule or entry it concerns; it makes neither --strict fail nor
// an import inexact.
func TestUnspecifiedReportedOnce(t *testing.T) {
	p, ds := eval.CompileFlags(
		"--allow-outbound=tcp://example.com:443", "--allow-outbound=udp://example.com:443",
		"--allow-outbound=tcp://api.example.org:443", "--allow-outbound=udp://api.example.org:443")
	if diag.HasErrors(ds) {
		t.Fatal(ds)
	}
	for _, tg := range Targets() {
		e, err := ExportPolicy(tg, p)
		if err != nil {
			t.Fatal(err)
		}
		var unspec []Difference
		wider := false
		for _, d := range e.Differences {
			if d.Unspecified {
				unspec = append(unspec, d)
			} else if d.Kind != Narrower {
				wider = true
			}
		}
		if len(unspec) != 1 {
			t.Fatalf("%s: %d unspecified differences, want 1: %+v", tg, len(unspec), e.Differences)
		}
		d := unspec[0]
		if d.Kind != Wider || d.Rule != 0 || d.Diagnostic.ID != IDExportWider || d.Diagnostic.Severity != diag.Warning || d.Diagnostic.Range != ruleRange(p, 0) {
			t.Errorf("%s: unspecified difference %+v, want a CS501 warning on rule 0", tg, d)
		}
		if !toUnspecified(d.Request) || e.Config.Decide(d.Request).Families()&d.famOrOwn() == 0 {
			t.Errorf("%s: example %q is no allowed connect or send to an unspecified address", tg, d.Example)
		}
		if e.Wider() != wider {
			t.Errorf("%s: Wider() = %v, want %v (the unspecified difference does not count)", tg, e.Wider(), wider)
		}
	}
	// Deno says these names exactly, but for the unspecified addresses.
	e, _ := ExportPolicy("deno", p)
	if len(e.Differences) != 1 || e.Wider() {
		t.Errorf("deno: %+v, want only the unspecified difference", e.Differences)
	}

	ims, problems, err := ImportConfig("deno", Source{Words: []Word{{Text: "--allow-net=example.com:443,*.example.org:443", Origin: "argv[1]"}}})
	if err != nil || len(problems) > 0 || len(ims) != 1 {
		t.Fatal(err, problems)
	}
	im := ims[0]
	if len(im.Differences) != 1 || !im.Exact() {
		t.Fatalf("deno import: %+v, want only the unspecified difference, exact", im.Differences)
	}
	d := im.Differences[0]
	if !d.Unspecified || d.Kind != Narrower || d.Entry != 0 || d.Diagnostic.ID != IDImportNarrower || d.Diagnostic.Severity != diag.Info || d.Diagnostic.Range != im.Config.Entries[0].Range {
		t.Errorf("deno import: %+v, want a CS505 info on entry 0", d)
	}
}
