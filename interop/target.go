package interop

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/eval"
	"github.com/capspec/capspec/policy"
)

// Config is a runtime's network permissions: its entries as the runtime
// writes them, and a model of how the runtime decides requests with them,
// built from the runtime's source (docs/interop.md).
type Config struct {
	// Target is the runtime: spin, deno, wasmer, wamr or wasmtime.
	Target string
	// Entries are the runtime's permission entries, in order: an element of
	// allowed_outbound_hosts, one item of --allow-net, one --net rule, one
	// --addr-pool prefix or --allow-resolve pattern, one -S option.
	Entries []Entry
	// Text is the configuration as the runtime takes it: a TOML line for
	// Spin, command-line words (joined by spaces) for the others.
	Text string
	// Words are the command-line words (or the TOML lines) of Text.
	Words []string
	// Problems are what reading the configuration found: entries the
	// runtime rejects (errors) and entries capspec cannot model (CS506).
	Problems []diag.Diagnostic

	model model
}

// Entry is one permission entry of a runtime's configuration.
type Entry struct {
	// Text is the entry as written.
	Text string
	// Range is where the entry was read (import), or the zero Range.
	Range diag.Range
	// Rules are the indexes of the policy rules the entry was exported
	// from (export only).
	Rules []int
	// Component is the Spin component the entry belongs to (import).
	Component string
}

// model decides requests as a runtime does, and names the boundaries
// (names, networks, ports) at which its decisions change.
type model interface {
	Decider
	bounds(b *bounds)
}

// Decide decides a request as the runtime would with this configuration.
func (c *Config) Decide(q eval.Request) Verdict {
	if !normalizeRequest(&q) {
		return Deny()
	}
	return c.model.Decide(q)
}

// normalizeRequest puts a request in the form the models take: names in
// capspec's normal form, addresses unmapped. It reports false for a
// request capspec cannot decide either (a malformed name).
func normalizeRequest(q *eval.Request) bool {
	if q.Addr.IsValid() {
		q.Addr = q.Addr.Unmap().WithZone("")
	}
	if q.Name != "" && (q.Op != eval.Listen && q.Op != eval.Bind) {
		n, err := eval.NormalizeName(q.Name)
		if err != nil {
			return false
		}
		q.Name = n
	}
	return true
}

// genEntry is an entry an exporter writes, with the rules it stands for.
type genEntry struct {
	text  string
	rules []int
}

// target is one runtime capspec knows.
type target struct {
	name string
	// generate writes the closest configuration to a policy.
	generate func(p *policy.Policy) (words []string, entries []genEntry)
	// read reads a configuration; names is the origin of the source.
	read func(src Source) *Config
	// flags writes the capspec flags closest to a configuration, each with
	// the entry it comes from.
	flags func(c *Config) []flagFrom
	// importable says whether capspec import reads this runtime.
	importable bool
}

// flagFrom is a capspec flag an importer writes, and the entry it comes from.
type flagFrom struct {
	flag  string
	entry int
}

var targets = []*target{spinTarget, denoTarget, wasmerTarget, wamrTarget, wasmtimeTarget}

// Targets returns the names of the runtimes capspec exports to.
func Targets() []string {
	var out []string
	for _, t := range targets {
		out = append(out, t.name)
	}
	return out
}

// ImportTargets returns the names of the runtimes capspec imports from.
func ImportTargets() []string {
	var out []string
	for _, t := range targets {
		if t.importable {
			out = append(out, t.name)
		}
	}
	return out
}

func findTarget(name string) (*target, error) {
	for _, t := range targets {
		if t.name == strings.ToLower(name) {
			return t, nil
		}
	}
	return nil, fmt.Errorf("unknown runtime %q (want %s)", name, strings.Join(Targets(), ", "))
}

// Source is a runtime configuration to read: a Spin manifest (Content), or
// a runtime's command-line words (Words).
type Source struct {
	// Name is the origin of Content in positions: a file name or "<stdin>".
	Name    string
	Content string
	// Words are command-line words, each with its own origin ("argv[5]").
	Words []Word
}

// Word is one command-line word and the origin its positions use.
type Word struct {
	Text   string
	Origin string
}

// Read reads a runtime's configuration. Entries the runtime rejects are
// errors in Config.Problems; entries capspec cannot model are CS506
// diagnostics there too.
func Read(runtime string, src Source) (*Config, error) {
	t, err := findTarget(runtime)
	if err != nil {
		return nil, err
	}
	return t.read(src), nil
}

// wordFiles returns the files of a source's words, for rendering.
func (s Source) files() []*diag.File {
	var out []*diag.File
	if s.Content != "" || s.Name != "" {
		out = append(out, diag.NewFile(s.Name, s.Content))
	}
	for _, w := range s.Words {
		out = append(out, diag.NewFile(w.Origin, w.Text))
	}
	return out
}

// Files returns the files positions of a source point into, for
// rendering diagnostics.
func (s Source) Files() []*diag.File { return s.files() }

// problem makes a diagnostic about an entry.
func problem(id string, sev diag.Severity, r diag.Range, format string, args ...any) diag.Diagnostic {
	return diag.Diagnostic{ID: id, Severity: sev, Range: r, Summary: fmt.Sprintf(format, args...)}
}

// ruleRange returns the source range of a policy rule, or the zero Range.
func ruleRange(p *policy.Policy, i int) diag.Range {
	if r := p.Rule(i); r != nil {
		return r.Range()
	}
	return diag.Range{}
}

// byHost groups what an exporter writes by host, keeping the ports and the
// rules of each host in the order hosts first appear.
type byHost struct {
	order []string
	ports map[string]policy.PortSet
	rules map[string][]int
}

func newByHost() *byHost {
	return &byHost{ports: map[string]policy.PortSet{}, rules: map[string][]int{}}
}

func (h *byHost) add(host string, ports policy.PortSet, rules ...int) {
	if _, ok := h.ports[host]; !ok {
		h.order = append(h.order, host)
		h.ports[host] = nil
	}
	h.ports[host] = h.ports[host].Union(ports)
	for _, r := range rules {
		if !containsInt(h.rules[host], r) {
			h.rules[host] = append(h.rules[host], r)
		}
	}
}

func containsInt(xs []int, x int) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// sortedRules returns rule indexes sorted.
func sortedRules(rs []int) []int {
	out := append([]int(nil), rs...)
	sort.Ints(out)
	return out
}

// resolvePatterns returns the name patterns a policy lets the guest look
// up, each with the rule granting it.
func resolvePatterns(p *policy.Policy) []struct {
	host policy.Host
	rule int
} {
	var out []struct {
		host policy.Host
		rule int
	}
	for _, r := range p.Resolves {
		out = append(out, struct {
			host policy.Host
			rule int
		}{r.Host, r.Index})
	}
	return out
}

// oneFlag writes entries as one flag: NAME=ENTRY,ENTRY,...
func oneFlag(name string, gen []genEntry) ([]string, []genEntry) {
	if len(gen) == 0 {
		return nil, nil
	}
	texts := make([]string, len(gen))
	for i, g := range gen {
		texts[i] = g.text
	}
	return []string{name + "=" + strings.Join(texts, ",")}, gen
}

// localHosts returns the local addresses an inbound rule's host stands for
// where a runtime checks the address a socket binds: 0.0.0.0 and [::] for
// every interface, the loopback networks for localhost, the address itself;
// nothing for an interface name, which no runtime knows.
func localHosts(r *policy.Rule) []string {
	var out []string
	switch r.Host.Kind {
	case policy.AnyHost, policy.LocalhostHost:
		for i, f := range fams {
			if r.Families&f == 0 {
				continue
			}
			if r.Host.Kind == policy.AnyHost {
				out = append(out, []string{"0.0.0.0", "[::]"}[i])
			} else {
				out = append(out, []string{"127.0.0.0/8", "[::1]"}[i])
			}
		}
	case policy.AddressHost:
		out = append(out, addrText(r.Host.Prefix.Addr()))
	}
	return out
}

// localAddr returns the address a listen or bind uses in family f: the
// address asked for, 0.0.0.0 or [::] for every interface, the loopback
// address for localhost; the zero Addr for an interface name or another
// family.
func localAddr(q eval.Request, f policy.Families) netip.Addr {
	switch q.Local {
	case eval.LocalAddr:
		if policy.FamilyOf(q.Addr) == f {
			return q.Addr
		}
	case eval.LocalAny:
		return unspecified(f)
	case eval.LocalLocalhost:
		return loopback(f)
	}
	return netip.Addr{}
}

// diagnosticsOf returns the diagnostics of differences, sorted.
func diagnosticsOf(ds []Difference) []diag.Diagnostic {
	var out []diag.Diagnostic
	for _, d := range ds {
		out = append(out, d.Diagnostic)
	}
	diag.Sort(out)
	return out
}

// isTCP reports whether a rule is for TCP.
func isTCP(r *policy.Rule) bool { return r.Protocol == ast.TCP }
