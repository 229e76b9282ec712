package interop

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/eval"
	"github.com/capspec/capspec/policy"
)

// Kind says which way a translation differs from its source.
type Kind uint8

// The kinds of differences.
const (
	// Wider: the translation allows a request its source denies.
	Wider Kind = iota
	// Narrower: the source allows a request the translation cannot.
	Narrower
	// MappingLost: both allow a request, but the runtime cannot map it as
	// the policy does (a host or port mapping), so it reaches the host
	// side the guest asked for.
	MappingLost
)

var kindNames = [...]string{"wider", "narrower", "mapping"}

// String returns "wider", "narrower" or "mapping".
func (k Kind) String() string { return kindNames[k] }

// The diagnostic IDs of export and import (registered in package lint).
const (
	IDExportWider       = "CS501"
	IDExportNarrower    = "CS502"
	IDExportMappingLost = "CS503"
	IDImportWider       = "CS504"
	IDImportNarrower    = "CS505"
	IDUnsupportedEntry  = "CS506"
	IDRuntimeSyntax     = "CS507"
)

// Difference is one computed difference between a policy and a runtime
// configuration, with a request that shows it.
type Difference struct {
	Kind Kind
	// Rule is the policy rule the difference is charged to (-1: none).
	Rule int
	// Entry is the runtime entry the difference is charged to (-1: none).
	Entry int
	// Example is a request one side allows and the other denies (or maps),
	// in §3.6 syntax, with its family where the request does not say it.
	Example string
	// Request and Family are the example as a request.
	Request eval.Request
	Family  policy.Families
	// Covers sums up every request of the difference.
	Covers string
	// Diagnostic is the difference as a diagnostic on the source.
	Diagnostic diag.Diagnostic
	// Unspecified marks the one difference of an export or import that
	// holds every connect and send to an unspecified address (0.0.0.0/8,
	// [::]) the runtime allows: capspec denies them whatever the rules say
	// (SPEC §3.3), and no runtime configuration can. It is reported once,
	// on the first rule (export) or entry (import) it concerns, and makes
	// neither Export.Wider nor an inexact Import.
	Unspecified bool

	part  *Part
	space *space
}

// Contains reports whether the difference holds a request in family f
// (f must be one family).
func (d *Difference) Contains(q eval.Request, f policy.Families) bool {
	if !normalizeRequest(&q) {
		return false
	}
	c, ok := d.space.cellOf(q, f)
	return ok && d.part.cells[c]
}

// Export is the configuration of a runtime closest to a policy, and every
// difference between the two.
type Export struct {
	// Config is the runtime's configuration, read back from Config.Text as
	// the runtime would read it.
	Config *Config
	// Differences are the computed differences, widest first.
	Differences []Difference

	policy *policy.Policy
	space  *space
}

// Wider reports whether the runtime would allow anything the policy does
// not (a wider part or a lost mapping), apart from the unspecified
// destinations capspec always denies (Difference.Unspecified), which no
// configuration of the runtime avoids.
func (e *Export) Wider() bool {
	for _, d := range e.Differences {
		if d.Kind != Narrower && !d.Unspecified {
			return true
		}
	}
	return false
}

// Diagnostics returns the differences as diagnostics positioned on the
// policy's rules, sorted.
func (e *Export) Diagnostics() []diag.Diagnostic { return diagnosticsOf(e.Differences) }

// Covered reports whether a request in family f falls in a cell the
// comparison decided (tests sample requests and check the report).
func (e *Export) Covered(q eval.Request, f policy.Families) bool {
	if !normalizeRequest(&q) {
		return false
	}
	_, ok := e.space.cellOf(q, f)
	return ok
}

// ExportPolicy writes the configuration of runtime (spin, deno, wasmer,
// wamr or wasmtime) closest to a compiled policy without errors, reads it
// back as the runtime would, and computes every difference: what the
// runtime would allow that the policy does not, what the policy allows
// that the runtime cannot, and mappings the runtime cannot make. Each
// difference has an example request, checked with eval.NewReference.
func ExportPolicy(runtime string, p *policy.Policy) (*Export, error) {
	t, err := findTarget(runtime)
	if err != nil {
		return nil, err
	}
	words, gen := t.generate(p)
	src := Source{}
	if t.name == "spin" {
		src.Name, src.Content = "<export>", strings.Join(words, "\n")
	} else {
		for i, w := range words {
			src.Words = append(src.Words, Word{Text: w, Origin: fmt.Sprintf("<export>[%d]", i)})
		}
	}
	cfg := t.read(src)
	if diag.HasErrors(cfg.Problems) || len(cfg.Entries) < len(gen) {
		return nil, fmt.Errorf("internal error: %s cannot read back its export %q (%v)", t.name, strings.Join(words, " "), cfg.Problems)
	}
	for i := range gen {
		cfg.Entries[i].Rules = gen[i].rules
	}
	cfg.Words, cfg.Text = words, strings.Join(words, " ")
	if t.name == "spin" {
		cfg.Text = strings.Join(words, "\n")
	}
	ps := newPolicySide(p)
	var pb, cb bounds
	policyBounds(&pb, p)
	cfg.model.bounds(&cb)
	sp := newSpace(&pb, &cb)
	e := &Export{Config: cfg, policy: p, space: sp}
	for _, part := range mergeByRule(compare(sp, ps, cfg), cfg) {
		d := Difference{Rule: -1, Entry: -1, Request: part.Example, Family: part.ExampleFamily, Unspecified: part.Unspecified, part: part, space: sp}
		d.Example = RequestText(part.Example, part.ExampleFamily)
		d.Covers = part.summary()
		f := part.ExampleFamily
		if f == 0 {
			f = famsOf(part.Example)
		}
		var sev diag.Severity
		var id, summary, detail string
		switch {
		case part.Unspecified:
			d.Kind = Wider
			d.Rule, d.Entry = firstRule(p, cfg, part.entries)
			if d.Rule < 0 {
				d.Entry = part.Entry
				if len(p.Rules) > 0 {
					d.Rule = 0 // what the runtime allows whatever the policy says
				}
			}
			if ps.checkWitness(part.Example, f) || cfg.Decide(part.Example).Families()&f == 0 {
				return nil, fmt.Errorf("internal error: witness %q does not show an unspecified destination", d.Example)
			}
			id, sev = IDExportWider, diag.Warning
			summary = fmt.Sprintf("%s would also allow %s: capspec denies every connect and send to an unspecified address, %s does not", t.name, d.Example, t.name)
			detail = fmt.Sprintf("through %s, %s also allows %s; on Linux these reach this host, so capspec denies them whatever the rules say (one warning for the whole export; --strict does not count it)",
				entriesText(t.name, cfg, part.entries), t.name, d.Covers)
		case part.Side == OnlyA:
			d.Kind, d.Rule = Narrower, part.Entry
			if !ps.checkWitness(part.Example, f) || cfg.Decide(part.Example).Families()&f != 0 {
				return nil, fmt.Errorf("internal error: witness %q does not show a narrower part", d.Example)
			}
			id, sev = IDExportNarrower, diag.Info
			summary = fmt.Sprintf("%s cannot allow %s, which this rule allows", t.name, d.Example)
			detail = "not allowed in " + t.name + ": " + d.Covers
		case part.Side == OnlyB:
			d.Kind, d.Entry = Wider, part.Entry
			if rs := cfg.Entries[part.Entry].Rules; len(rs) > 0 {
				d.Rule = rs[0]
			} else if len(p.Rules) > 0 {
				d.Rule = 0 // what the runtime allows whatever the policy says
			}
			if ps.checkWitness(part.Example, f) || cfg.Decide(part.Example).Families()&f == 0 {
				return nil, fmt.Errorf("internal error: witness %q does not show a wider part", d.Example)
			}
			id, sev = IDExportWider, diag.Warning
			summary = fmt.Sprintf("%s would also allow %s, which the policy denies", t.name, d.Example)
			detail = fmt.Sprintf("through %s, %s also allows %s", entriesText(t.name, cfg, part.entries), t.name, d.Covers)
		case part.Side == MappedA:
			d.Kind, d.Rule = MappingLost, part.Entry
			if !ps.checkWitness(part.Example, f) || cfg.Decide(part.Example).Families()&f == 0 {
				return nil, fmt.Errorf("internal error: witness %q does not show a lost mapping", d.Example)
			}
			id, sev = IDExportMappingLost, diag.Warning
			summary = fmt.Sprintf("%s cannot map %s as this rule does; it reaches what the guest asked for", t.name, d.Example)
			detail = "unmapped in " + t.name + ": " + d.Covers
		}
		d.Diagnostic = diag.Diagnostic{ID: id, Severity: sev, Range: ruleRange(p, d.Rule), Summary: summary, Detail: detail}
		e.Differences = append(e.Differences, d)
	}
	return e, nil
}

// summary sums up a part: its operation, hosts, ports and families.
func (p *Part) summary() string {
	var b strings.Builder
	hosts := strings.Join(p.Hosts, ", ")
	if len(p.Hosts) > maxHosts {
		hosts = strings.Join(p.Hosts[:maxHosts], ", ") + ", …"
	}
	switch p.Op {
	case eval.Lookup:
		fmt.Fprintf(&b, "lookups of %s", hosts)
	case eval.Connect, eval.Send:
		ops := []string{p.Op.String() + " " + p.Op.Protocol().String()}
		if len(p.Ops) > 0 {
			ops = ops[:0]
			for _, op := range p.Ops {
				ops = append(ops, op.String()+" "+op.Protocol().String())
			}
		}
		fmt.Fprintf(&b, "%s to %s on ports %s", strings.Join(ops, " and "), hosts, p.Ports.Spell(true))
	default:
		fmt.Fprintf(&b, "%s %s on %s, ports %s", p.Op, p.Op.Protocol(), hosts, p.Ports.Spell(false))
	}
	fmt.Fprintf(&b, " (%s)", p.Families)
	return b.String()
}

// maxEntries is the most runtime entries a diagnostic names.
const maxEntries = 4

// entriesText names runtime entries: deno entry "a", deno entries "a", "b".
func entriesText(runtime string, c *Config, entries []int) string {
	var quoted []string
	for i, en := range entries {
		if i == maxEntries {
			quoted = append(quoted, fmt.Sprintf("and %d more", len(entries)-maxEntries))
			break
		}
		quoted = append(quoted, strconv.Quote(c.Entries[en].Text))
	}
	what := "entry"
	if len(entries) > 1 {
		what = "entries"
	}
	return runtime + " " + what + " " + strings.Join(quoted, ", ")
}

// firstRule returns the first policy rule that entries were exported from
// (an outbound or inbound rule if there is one: the entries' sockets come
// from those, a resolve rule only adds names), and the first of the
// entries exported from it (-1, -1: none).
func firstRule(p *policy.Policy, c *Config, entries []int) (rule, entry int) {
	rule, entry = -1, -1
	for _, sockets := range []bool{true, false} {
		for _, en := range entries {
			for _, r := range c.Entries[en].Rules {
				if pr := p.Rule(r); sockets && (pr == nil || pr.Kind == ast.Resolve) {
					continue
				}
				if rule < 0 || r < rule {
					rule, entry = r, en
				}
			}
		}
		if rule >= 0 {
			break
		}
	}
	return rule, entry
}

// mergeByRule merges the wider parts of one operation whose entries come
// from the same policy rule, so that a rule gets one diagnostic per
// operation however many entries it became.
func mergeByRule(parts []*Part, c *Config) []*Part {
	type key struct {
		rule int
		op   eval.Op
	}
	first := map[key]*Part{}
	var out []*Part
	for _, p := range parts {
		if p.Unspecified {
			out = append(out, p)
			continue
		}
		p.entries = []int{p.Entry}
		if p.Side != OnlyB {
			out = append(out, p)
			continue
		}
		rule := -1
		if rs := c.Entries[p.Entry].Rules; len(rs) > 0 {
			rule = rs[0]
		}
		k := key{rule, p.Op}
		m := first[k]
		if m == nil {
			first[k] = p
			out = append(out, p)
			continue
		}
		for c := range p.cells {
			m.cells[c] = true
		}
		m.Families |= p.Families
		m.Ports = m.Ports.Union(p.Ports)
		for _, h := range p.Hosts {
			if !contains(m.Hosts, h) {
				m.Hosts = append(m.Hosts, h)
			}
		}
		m.entries = append(m.entries, p.Entry)
	}
	return out
}
