package interop

import (
	"os"
	"strings"
	"testing"

	"github.com/capspec/capspec/eval"
)

func TestSmoke(t *testing.T) {
	b, _ := os.ReadFile("../testdata/examples/seed.flags")
	var flags []string
	for _, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		if i := strings.Index(l, " #"); i >= 0 {
			l = strings.TrimSpace(l[:i])
		}
		if strings.HasPrefix(l, "--") {
			flags = append(flags, l)
		}
	}
	p, ds := eval.CompileFlags(flags...)
	if len(ds) > 0 {
		t.Log(ds)
	}
	for _, tg := range Targets() {
		e, err := ExportPolicy(tg, p)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %s", tg, e.Config.Text)
		for _, d := range e.Diagnostics() {
			t.Logf("  %s", d.Error())
			t.Logf("     %s", d.Detail)
		}
	}
}
