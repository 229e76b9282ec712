package explain

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/internal/prose"
	"github.com/capspec/capspec/policy"
)

// wrapWidth is the column at which text output wraps sentences.
const wrapWidth = 100

// WriteText writes the accounts in plain words: every rule with its
// sentence, the effective grants grouped as lookups, outbound connections
// and inbound listeners, what is denied, and the risks. Rules are numbered
// from 1 as in capspec parse. A nil palette prints no color.
func WriteText(w io.Writer, accounts []*Account, pal *diag.Palette) error {
	return writeEach(w, accounts, pal, writeAccount)
}

// writeEach writes each account with write, a blank line between them, in
// one write to w. A nil palette prints no color.
func writeEach(w io.Writer, accounts []*Account, pal *diag.Palette, write func(*textWriter, *Account, *diag.Palette)) error {
	if pal == nil {
		pal = diag.NewPalette(false)
	}
	// Written as it is made: the account of a policy of a hundred thousand
	// rules is tens of megabytes of text, never held whole.
	b := bufio.NewWriterSize(w, 64<<10)
	for i, a := range accounts {
		if i > 0 {
			b.WriteByte('\n')
		}
		write(b, a, pal)
	}
	return b.Flush() // (the first error of a write, if any)
}

// textWriter is where the text of an account is written, buffered.
type textWriter = bufio.Writer

func writeAccount(b *textWriter, a *Account, pal *diag.Palette) {
	fmt.Fprintf(b, "%s %s (%s)\n", pal.Bold.Sprint("policy"), a.Name, count(len(a.Rules), "rule"))

	b.WriteString("\n" + pal.Bold.Sprint("Rules") + "\n")
	if len(a.Rules) == 0 {
		b.WriteString("  none\n")
	}
	for _, ra := range a.Rules {
		r := ra.Rule
		fmt.Fprintf(b, "  %s %s  %s\n", pal.Bold.Sprintf("%3d", ra.Index+1), r.Text(), pal.Gutter.Sprint(r.Range()))
		wrap(b, "      ", ra.Sentence)
	}

	b.WriteString("\n" + pal.Bold.Sprint("Allowed in effect") + "\n")
	for _, k := range []ast.Kind{ast.Resolve, ast.Outbound, ast.Inbound} {
		b.WriteString("  " + pal.Bold.Sprint(groupTitle[k]) + "\n")
		n := 0
		for i := range a.Grants {
			g := &a.Grants[i]
			if g.Rule.Kind != k {
				continue
			}
			n++
			wrapTail(b, "    "+pal.Help.Sprint("+")+" ", "      ", g.Summary, pal.Gutter.Sprint("["+refs(g)+"]"))
		}
		if n == 0 {
			b.WriteString("    none\n")
		}
	}

	b.WriteString("\n" + pal.Bold.Sprint("Denied") + "\n")
	for _, d := range a.Denied {
		wrap(b, "  "+pal.Error.Sprint("-")+" ", d.Text)
	}

	b.WriteString("\n" + pal.Bold.Sprint("Risks") + "\n")
	if len(a.Risks) == 0 {
		b.WriteString("  none found (no warning-level lint findings)\n")
	}
	for _, g := range groupRisks(a.Risks) {
		rk := g[0]
		wrapIndent(b, "  ", "    ", pal.Warning.Sprintf("warning[%s]", rk.ID)+" "+rk.Name+": "+rk.Message)
		for _, rk := range g {
			if rk.Rule >= 0 {
				fmt.Fprintf(b, "    rule %d: %s  %s\n", rk.Rule+1, rk.Flag, pal.Gutter.Sprint(rk.Range))
			} else {
				fmt.Fprintf(b, "    %s\n", pal.Gutter.Sprint(rk.Range))
			}
		}
	}
}

// groupRisks groups risks of one ID and message, in order of first
// appearance, so that a finding repeated over many rules reads once.
func groupRisks(rs []Risk) [][]Risk {
	at := map[[2]string]int{}
	var out [][]Risk
	for _, r := range rs {
		k := [2]string{r.ID, r.Message}
		i, ok := at[k]
		if !ok {
			i = len(out)
			at[k] = i
			out = append(out, nil)
		}
		out[i] = append(out[i], r)
	}
	return out
}

var groupTitle = map[ast.Kind]string{
	ast.Resolve:  "DNS lookups",
	ast.Outbound: "Outbound connections",
	ast.Inbound:  "Inbound listeners",
}

// refs says where a grant comes from, numbering rules from 1: "rule 5;
// also within it: rules 3, 4" or "implied by rule 1".
func refs(g *Grant) string {
	var parts []string
	if len(g.Rules) > 0 {
		parts = append(parts, ruleList(g.Rules))
	}
	if len(g.ImpliedBy) > 0 {
		parts = append(parts, "implied by "+ruleList(g.ImpliedBy))
	}
	if len(g.Also) > 0 {
		parts = append(parts, "also covers "+ruleList(g.Also))
	}
	return strings.Join(parts, "; ")
}

// ruleList writes "rule 3" or "rules 1, 3 and 4", numbering from 1.
func ruleList(is []int) string {
	ns := make([]string, len(is))
	for i, n := range is {
		ns[i] = strconv.Itoa(n + 1)
	}
	if len(ns) == 1 {
		return "rule " + ns[0]
	}
	return "rules " + prose.JoinAnd(ns)
}

func count(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

// wrap writes text after prefix, wrapped at wrapWidth columns, continuation
// lines indented to the width of the prefix. Widths count visible runes,
// not color escapes.
func wrap(b *textWriter, prefix, text string) {
	wrapIndent(b, prefix, strings.Repeat(" ", visibleLen(prefix)), text)
}

// wrapIndent is wrap with continuation lines indented by indent.
func wrapIndent(b *textWriter, prefix, indent, text string) {
	wrapTail(b, prefix, indent, text, "")
}

// wrapTail is wrapIndent followed by tail, which is never broken: it ends
// the last line when it fits there, or else has a line of its own.
func wrapTail(b *textWriter, prefix, indent, text, tail string) {
	b.WriteString(prefix)
	col := visibleLen(prefix)
	start := col
	for i, word := range strings.Fields(text) {
		n := visibleLen(word)
		if i > 0 {
			if col+1+n > wrapWidth && col > start {
				b.WriteString("\n" + indent)
				col = len(indent)
			} else {
				b.WriteByte(' ')
				col++
			}
		}
		b.WriteString(word)
		col += n
	}
	if tail != "" {
		if col+1+visibleLen(tail) > wrapWidth && col > start {
			b.WriteString("\n" + indent)
		} else {
			b.WriteByte(' ')
		}
		b.WriteString(tail)
	}
	b.WriteByte('\n')
}

// visibleLen counts the runes of s outside ANSI color escapes.
func visibleLen(s string) int {
	n := 0
	for i := 0; i < len(s); {
		if s[i] == 0x1b {
			j := strings.IndexByte(s[i:], 'm')
			if j < 0 {
				break
			}
			i += j + 1
			continue
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		n++
	}
	return n
}

// WriteTable writes the effective grants of each account one a line, in
// the manner of "ufw status": KIND, PROTO, HOST, PORTS, FAMILY, MAPPING
// and FROM (the rules, numbered from 1, that the grant is made of), and
// after them one line per risk.
func WriteTable(w io.Writer, accounts []*Account, pal *diag.Palette) error {
	return writeEach(w, accounts, pal, func(b *textWriter, a *Account, pal *diag.Palette) {
		if len(accounts) > 1 {
			fmt.Fprintf(b, "%s %s\n", pal.Bold.Sprint("policy"), a.Name)
		}
		rows := [][]string{{"KIND", "PROTO", "HOST", "PORTS", "FAMILY", "MAPPING", "FROM"}}
		for j := range a.Grants {
			rows = append(rows, tableRow(&a.Grants[j]))
		}
		writeRows(b, rows, pal)
		if len(a.Grants) == 0 {
			b.WriteString("(nothing is allowed)\n")
		}
		for _, g := range groupRisks(a.Risks) {
			var is []int
			for _, rk := range g {
				if rk.Rule >= 0 {
					is = append(is, rk.Rule)
				}
			}
			where := ""
			if len(is) > 0 {
				where = " " + ruleList(is)
			}
			fmt.Fprintf(b, "%s%s: %s\n", pal.Warning.Sprintf("risk %s", g[0].ID), where, g[0].Message)
		}
	})
}

// tableRow is the row of one grant.
func tableRow(g *Grant) []string {
	r := g.Rule
	proto, ports := "-", "-"
	if r.Kind != ast.Resolve {
		proto = r.Protocol.String()
		ports = r.Ports.Spell(r.Kind == ast.Outbound)
	}
	fam := "any"
	if r.Families != policy.AllFamilies {
		fam = r.Families.String()
	}
	var maps []string
	if r.HostMap.IsValid() {
		maps = append(maps, "->"+r.HostMap.String())
	}
	if r.PortMap.IsMapped() {
		maps = append(maps, r.PortMap.String())
	}
	mapping := "-"
	if len(maps) > 0 {
		mapping = strings.Join(maps, " ")
	}
	var from []string
	for _, i := range g.Rules {
		from = append(from, strconv.Itoa(i+1))
	}
	if len(g.ImpliedBy) > 0 {
		var is []string
		for _, i := range g.ImpliedBy {
			is = append(is, strconv.Itoa(i+1))
		}
		from = append(from, "implied by "+strings.Join(is, ","))
	}
	return []string{r.Kind.String(), proto, r.Host.String(), ports, fam, mapping, strings.Join(from, ", ")}
}

// writeRows writes rows as columns two spaces apart, the first row bold.
func writeRows(b *textWriter, rows [][]string, pal *diag.Palette) {
	widths := make([]int, len(rows[0]))
	for _, row := range rows {
		for i, c := range row {
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	for n, row := range rows {
		var line strings.Builder
		for i, c := range row {
			if i == len(row)-1 {
				line.WriteString(c)
				break
			}
			line.WriteString(c + strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c)+2))
		}
		s := strings.TrimRight(line.String(), " ")
		if n == 0 {
			s = pal.Bold.Sprint(s)
		}
		b.WriteString(s + "\n")
	}
}
