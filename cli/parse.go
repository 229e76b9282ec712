package cli

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/internal/jsonstream"
	"github.com/capspec/capspec/literal"
)

func (a *app) parseCommand() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "parse [FILE|-]...",
		Short: "Print the syntax tree of flags (exit 1 on syntax errors)",
		Long: `parse reads flags from --allow-* arguments, flags files and standard input (-)
and prints each rule's syntax tree with the source range of every part.
With --format json it prints the tree as JSON (see docs/json.md).`,
		Example: `  capspec parse --allow-outbound=tcp://example.com:80,443
  capspec parse policy.flags --format json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(format, "text", "json"); err != nil {
				return err
			}
			set, err := a.load(args)
			if err != nil {
				return err
			}
			ds := set.diagnostics()
			if format == "json" {
				if err := writeTreeJSON(a.env.Stdout, set, ds); err != nil {
					return err
				}
			} else {
				pal, err := a.palette(a.env.Stdout)
				if err != nil {
					return err
				}
				if err := writeTree(a.env.Stdout, set, pal); err != nil {
					return err
				}
				errPal, err := a.palette(a.env.Stderr)
				if err != nil {
					return err
				}
				if err := diag.WriteText(a.env.Stderr, ds, set.files, errPal); err != nil {
					return err
				}
			}
			if diag.HasErrors(ds) {
				return exit(ExitFailed)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or json")
	return cmd
}

// writeTree prints the rules of every input as an indented tree, as it
// goes.
func writeTree(w io.Writer, set *inputSet, pal *diag.Palette) error {
	b := bufio.NewWriterSize(w, 64<<10)
	for _, it := range set.items {
		fmt.Fprintf(b, "%s %s (%s)\n", pal.Bold.Sprint("policy"), it.input.Name, plural(len(it.policy.Rules), "rule"))
		for _, r := range it.policy.Rules {
			fmt.Fprintf(b, "  %s %s  %s\n", pal.Bold.Sprintf("rule %d", r.Index+1), r.Kind(), pal.Gutter.Sprint(r.Range(r)))
			fmt.Fprintf(b, "    %q\n", r.Text)
			ast.Walk(r, func(n ast.Node) bool {
				if n == ast.Node(r) {
					return true
				}
				label, text := describeNode(n)
				indent := "    "
				if _, ok := n.(*ast.PortItem); ok {
					indent = "      "
				}
				// (Written without fmt: a list of 30,000 ports is as many lines.)
				b.WriteString(indent)
				b.WriteString(label)
				for i := utf8.RuneCountInString(label); i < 9; i++ {
					b.WriteByte(' ')
				}
				b.WriteByte(' ')
				b.WriteString(text)
				b.WriteString("  ")
				b.WriteString(pal.Gutter.Sprint(spanText(r, n)))
				b.WriteByte('\n')
				_, isMap := n.(*ast.PortMapping)
				return !isMap
			})
		}
	}
	return b.Flush()
}

// spanText is a node's origin range as origin:line:col-col.
func spanText(r *ast.Rule, n ast.Node) string {
	rg := r.Range(n)
	if rg.End.Line != rg.Start.Line {
		return rg.String() + "-" + strconv.Itoa(rg.End.Line) + ":" + strconv.Itoa(rg.End.Column)
	}
	return rg.String() + "-" + strconv.Itoa(rg.End.Column)
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// describeNode returns a node's label and a description of its value.
func describeNode(n ast.Node) (string, string) {
	switch n := n.(type) {
	case *ast.FlagName:
		form := "--allow-X=SPEC"
		if n.Form == ast.TwoWords {
			form = "--allow-X SPEC"
		}
		return "flag", fmt.Sprintf("%s (%s)", n.Kind.FlagName(), form)
	case *ast.Scheme:
		return "protocol", n.Protocol.String()
	case *ast.Ellipsis:
		return "any", "... (any host, any port)"
	case *ast.Host:
		return "host", hostText(n)
	case *ast.HostMapping:
		return "maps to", literal.FormatAddr(n.Addr)
	case *ast.PortList:
		if n.Any {
			return "ports", "* (any port)"
		}
		return "ports", n.String()
	case *ast.PortItem:
		if n.Lo == n.Hi {
			return "port", fmt.Sprint(n.Lo)
		}
		return "range", fmt.Sprintf("%d-%d", n.Lo, n.Hi)
	case *ast.PortMapping:
		if n.Item.Lo == n.Item.Hi {
			return "host port", fmt.Sprint(n.Item.Lo)
		}
		return "host ports", fmt.Sprintf("%d-%d", n.Item.Lo, n.Item.Hi)
	case *ast.FamilyMod:
		return "family", n.Family.String()
	}
	return "node", ""
}

func hostText(h *ast.Host) string {
	switch h.Kind {
	case ast.HostAny:
		return "any (*)"
	case ast.HostWildcard:
		return "wildcard *." + h.Name
	case ast.HostDomain, ast.HostLocalhost:
		if h.Raw != h.Name {
			return fmt.Sprintf("%s %s (written %q)", h.Kind, h.Name, h.Raw)
		}
		return fmt.Sprintf("%s %s", h.Kind, h.Name)
	case ast.HostInterface:
		return "interface " + h.Iface
	case ast.HostIPv4, ast.HostIPv6:
		return fmt.Sprintf("%s %s", h.Kind, literal.FormatAddr(h.Addr))
	case ast.HostCIDR:
		return "cidr " + literal.FormatPrefix(h.Prefix)
	}
	return h.Raw
}

type jsonHost struct {
	Kind      string         `json:"kind"`
	Raw       string         `json:"raw"`
	Name      string         `json:"name,omitempty"`
	Address   string         `json:"address,omitempty"`
	Prefix    string         `json:"prefix,omitempty"`
	Interface string         `json:"interface,omitempty"`
	Range     diag.JSONRange `json:"range"`
}

type jsonPortItem struct {
	Low   int            `json:"low"`
	High  int            `json:"high"`
	Raw   string         `json:"raw"`
	Range diag.JSONRange `json:"range"`
}

type jsonPorts struct {
	Any   bool           `json:"any"`
	Items []jsonPortItem `json:"items"`
	Range diag.JSONRange `json:"range"`
}

type jsonHostMapping struct {
	Address string         `json:"address"`
	Raw     string         `json:"raw"`
	Range   diag.JSONRange `json:"range"`
}

type jsonRule struct {
	Index       int              `json:"index"`
	Text        string           `json:"text"`
	Kind        string           `json:"kind"`
	Form        string           `json:"form"`
	Range       diag.JSONRange   `json:"range"`
	Protocol    string           `json:"protocol,omitempty"`
	AnyHostPort bool             `json:"any_host_port,omitempty"`
	Host        *jsonHost        `json:"host,omitempty"`
	HostMapping *jsonHostMapping `json:"host_mapping,omitempty"`
	Ports       *jsonPorts       `json:"ports,omitempty"`
	PortMapping *jsonPortItem    `json:"port_mapping,omitempty"`
	Family      string           `json:"family,omitempty"`
}

// portItemJSON converts a port list item of a rule.
func portItemJSON(r *ast.Rule, it *ast.PortItem) jsonPortItem {
	return jsonPortItem{Low: it.Lo, High: it.Hi, Raw: it.Raw, Range: diag.RangeJSON(r.Range(it))}
}

// plainJSON reports whether s is written in JSON as it is, between quotes:
// printable ASCII but '"' and '\\'.
func plainJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' || c > '~' || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// portItemIndent indents the lines of a port item written as an element
// of "items" (depth 6, so its fields stand at depth 7).
const portItemIndent = "\n              "

// appendPortItemJSON appends a port item as jsonstream.Writer.Elem(6, j)
// writes it after the line break and indentation, without reflection: a
// list may hold a million ports. Raw and Range.Origin must be plainJSON.
// TestPortItemJSON checks that both agree.
func appendPortItemJSON(b []byte, j jsonPortItem) []byte {
	field := func(b []byte, in, key string) []byte {
		b = append(b, portItemIndent...)
		b = append(b, in...)
		b = append(b, '"')
		b = append(b, key...)
		return append(b, `": `...)
	}
	num := func(b []byte, in, key string, n int, last bool) []byte {
		b = strconv.AppendInt(field(b, in, key), int64(n), 10)
		if !last {
			b = append(b, ',')
		}
		return b
	}
	b = append(b, '{')
	b = num(b, "  ", "low", j.Low, false)
	b = num(b, "  ", "high", j.High, false)
	b = append(append(append(field(b, "  ", "raw"), '"'), j.Raw...), `",`...)
	b = append(field(b, "  ", "range"), '{')
	rg := j.Range
	b = append(append(append(field(b, "    ", "origin"), '"'), rg.Origin...), `",`...)
	b = num(b, "    ", "line", rg.Line, false)
	b = num(b, "    ", "column", rg.Column, false)
	b = num(b, "    ", "end_line", rg.EndLine, false)
	b = num(b, "    ", "end_column", rg.EndColumn, false)
	b = num(b, "    ", "offset", rg.Offset, false)
	b = num(b, "    ", "end_offset", rg.EndOffset, true)
	b = append(append(b, portItemIndent...), "  }"...)
	return append(append(b, portItemIndent...), '}')
}

// itemsKey is how a rule's JSON, indented as an element of "rules", spells
// its port list's items while they are left out: they are written there.
const itemsKey = "\n            \"items\": []"

// ruleWriter writes rules as elements of "rules", with buffers kept from
// rule to rule.
type ruleWriter struct {
	s   *jsonstream.Writer
	b   bytes.Buffer       // one rule's JSON but its port items
	one *jsonstream.Writer // writes to b
	buf []byte             // one port item
}

func newRuleWriter(s *jsonstream.Writer) *ruleWriter {
	w := &ruleWriter{s: s}
	w.one = jsonstream.New(&w.b, false)
	return w
}

// write writes a rule as an element of "rules" (depth 3), its port items
// one at a time in the place of the empty list of ruleJSON.
func (w *ruleWriter) write(r *ast.Rule) error {
	s := w.s
	j := ruleJSON(r)
	if r.Ports == nil || len(r.Ports.Items) == 0 {
		s.Elem(3, j)
		return nil
	}
	w.b.Reset()
	w.one.Value(4, j)
	if err := w.one.Flush(); err != nil {
		return err
	}
	head, tail, ok := bytes.Cut(w.b.Bytes(), []byte(itemsKey))
	if !ok {
		return fmt.Errorf("writing rule %d: its JSON has no %q", r.Index, strings.TrimSpace(itemsKey))
	}
	s.Next(3)
	s.RawBytes(head)
	s.Raw(strings.TrimSuffix(itemsKey, "[]"))
	s.Open('[')
	for _, it := range r.Ports.Items {
		j := portItemJSON(r, it)
		if !plainJSON(j.Raw) || !plainJSON(j.Range.Origin) {
			s.Elem(6, j)
			continue
		}
		s.Next(6)
		w.buf = appendPortItemJSON(w.buf[:0], j)
		s.RawBytes(w.buf)
	}
	s.Close(6, ']')
	s.RawBytes(tail)
	return nil
}

// ruleJSON converts a rule to the JSON form of capspec parse, but for the
// items of its port list, which ruleWriter.write writes.
func ruleJSON(r *ast.Rule) jsonRule {
	j := jsonRule{Index: r.Index, Text: r.Text, Kind: r.Kind().String(), Form: "equals", Range: diag.RangeJSON(r.Range(r))}
	if r.Flag.Form == ast.TwoWords {
		j.Form = "two_words"
	}
	j.Protocol = r.Protocol().String()
	j.AnyHostPort = r.Ellipsis != nil
	if h := r.Host; h != nil {
		jh := &jsonHost{Kind: h.Kind.String(), Raw: h.Raw, Name: h.Name, Interface: h.Iface, Range: diag.RangeJSON(r.Range(h))}
		if h.Addr.IsValid() {
			jh.Address = h.Addr.String()
		}
		if h.Prefix.IsValid() {
			jh.Prefix = h.Prefix.String()
		}
		j.Host = jh
	}
	if m := r.HostMap; m != nil {
		j.HostMapping = &jsonHostMapping{Address: m.Addr.String(), Raw: m.Raw, Range: diag.RangeJSON(r.Range(m))}
	}
	if p := r.Ports; p != nil {
		// The items are written one by one (ruleWriter.write): a list may
		// hold a million ports.
		j.Ports = &jsonPorts{Any: p.Any, Items: []jsonPortItem{}, Range: diag.RangeJSON(r.Range(p))}
	}
	if m := r.PortMap; m != nil {
		j.PortMapping = &jsonPortItem{Low: m.Item.Lo, High: m.Item.Hi, Raw: m.Item.Raw, Range: diag.RangeJSON(r.Range(m.Item))}
	}
	j.Family = r.FamilyValue().String()
	return j
}

// writeTreeJSON prints {"policies": [...], "diagnostics": [...]}, rule by
// rule and diagnostic by diagnostic.
func writeTreeJSON(w io.Writer, set *inputSet, ds []diag.Diagnostic) error {
	s := jsonstream.New(w, false)
	rw := newRuleWriter(s)
	s.Open('{')
	s.Next(0)
	s.Raw(`"policies": `)
	s.Open('[')
	for _, it := range set.items {
		s.Next(1)
		s.Open('{')
		s.Next(2)
		s.Raw(`"name": `)
		s.Value(0, it.input.Name)
		s.Next(2)
		s.Raw(`"rules": `)
		s.Open('[')
		for _, r := range it.policy.Rules {
			if err := rw.write(r); err != nil {
				return err
			}
		}
		s.Close(3, ']')
		s.Close(2, '}')
	}
	s.Close(1, ']')
	s.Next(0)
	s.Raw(`"diagnostics": `)
	s.Open('[')
	for _, d := range ds {
		s.Elem(1, diag.ToJSON(d, nil))
	}
	s.Close(1, ']')
	s.Close(0, '}')
	s.Raw("\n")
	return s.Flush()
}
