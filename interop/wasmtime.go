package interop

import (
	"strings"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/eval"
	"github.com/capspec/capspec/policy"
)

// wasmtime's CLI (docs/interop.md#wasmtime): -S inherit-network lets the
// guest use every address (bind, listen, connect, send) and turns TCP and
// UDP on; -S tcp=n and -S udp=n turn one off again; -S
// allow-ip-name-lookup allows every lookup. Nothing narrower exists on the
// command line.

type wasmtimeModel struct {
	inherit, lookup int // entries, or -1
	tcp, udp        bool
}

// Decide implements Decider.
func (m *wasmtimeModel) Decide(q eval.Request) Verdict {
	v := Deny()
	proto := m.inherit >= 0 && (q.Op.Protocol() == ast.TCP && m.tcp || q.Op.Protocol() == ast.UDP && m.udp)
	switch q.Op {
	case eval.Lookup:
		v.allow(policy.AllFamilies, m.lookup)
	case eval.Connect, eval.Send:
		if proto && (q.Addr.IsValid() || m.lookup >= 0) {
			v.allow(famsOf(q), m.inherit)
		}
	default:
		if proto && q.Local != eval.LocalInterface {
			v.allow(famsOf(q), m.inherit)
		}
	}
	return v
}

func (m *wasmtimeModel) bounds(*bounds) {}

// readWasmtime reads -S options (-S a,b or -Sa; -S key=y|n).
func readWasmtime(src Source) *Config {
	c := &Config{Target: "wasmtime"}
	m := &wasmtimeModel{inherit: -1, lookup: -1}
	c.model = m
	tcp, udp := "", ""
	for i := 0; i < len(src.Words); i++ {
		w := src.Words[i]
		var opts string
		var origin string
		base := 0
		switch {
		case w.Text == "-S" || w.Text == "--wasi":
			if i+1 == len(src.Words) {
				continue
			}
			c.Words = append(c.Words, w.Text)
			i++
			w = src.Words[i]
			opts, origin = w.Text, w.Origin
		case strings.HasPrefix(w.Text, "-S"):
			opts, origin, base = w.Text[2:], w.Origin, 2
		case strings.HasPrefix(w.Text, "--wasi="):
			opts, origin, base = w.Text[7:], w.Origin, 7
		default:
			continue
		}
		c.Words = append(c.Words, w.Text)
		f := diag.NewFile(origin, w.Text)
		start := base
		for _, o := range strings.Split(opts, ",") {
			r := f.Range(start, start+len(o))
			start += len(o) + 1
			key, val, hasVal := strings.Cut(o, "=")
			on := !hasVal || val == "y" || val == "yes" || val == "true"
			switch key {
			case "inherit-network":
				if on {
					m.inherit = len(c.Entries)
				} else {
					m.inherit = -1
				}
			case "allow-ip-name-lookup":
				if on {
					m.lookup = len(c.Entries)
				} else {
					m.lookup = -1
				}
			case "tcp":
				tcp = map[bool]string{true: "y", false: "n"}[on]
			case "udp":
				udp = map[bool]string{true: "y", false: "n"}[on]
			default:
				continue
			}
			c.Entries = append(c.Entries, Entry{Text: o, Range: r})
		}
	}
	m.tcp = tcp == "y" || tcp == "" && m.inherit >= 0
	m.udp = udp == "y" || udp == "" && m.inherit >= 0
	c.Text = strings.Join(c.Words, " ")
	return c
}

// generateWasmtime writes the -S options closest to a policy.
func generateWasmtime(p *policy.Policy) ([]string, []genEntry) {
	var sockets, tcp, udp, lookups []int
	for _, r := range p.Rules {
		if r.Kind == ast.Resolve {
			lookups = append(lookups, r.Index)
			continue
		}
		sockets = append(sockets, r.Index)
		if isTCP(r) {
			tcp = append(tcp, r.Index)
		} else {
			udp = append(udp, r.Index)
		}
		if r.Kind == ast.Outbound && r.Host.Kind.IsName() {
			lookups = append(lookups, r.Index)
		}
	}
	var words []string
	var gen []genEntry
	opt := func(o string, rules []int) {
		words = append(words, "-S", o)
		gen = append(gen, genEntry{text: o, rules: sortedRules(uniq(rules))})
	}
	if len(sockets) > 0 {
		opt("inherit-network", sockets)
		if len(tcp) == 0 {
			opt("tcp=n", sockets)
		}
		if len(udp) == 0 {
			opt("udp=n", sockets)
		}
	}
	if len(lookups) > 0 {
		opt("allow-ip-name-lookup", lookups)
	}
	return words, gen
}

var wasmtimeTarget = &target{
	name:     "wasmtime",
	generate: generateWasmtime,
	read:     readWasmtime,
	flags:    func(*Config) []flagFrom { return nil },
}
