package source

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"mvdan.cc/sh/v3/syntax"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/internal/prose"
)

// DynamicValueID is the diagnostic of a flag whose text the shell computes
// when it runs (a variable, a command substitution, arithmetic, a brace
// expansion): capspec never guesses such a value, so the flag is left out
// of its policy and reported with this warning.
const DynamicValueID = "CS013"

// Shell reads a shell script (POSIX or bash, parsed by mvdan.cc/sh). Every
// simple command with --allow-* words is one input, named by the script, the
// line and the command ("run.sh:4 wasmtime"). Values are taken after quote
// removal; every byte of a flag maps back to the script, through quotes,
// escapes and continuation lines. A value the shell computes is reported
// (DynamicValueID), not guessed. Comment lines just above a command belong
// to its first flag; a comment ending the command's last line is beside its
// last flag.
//
// A UTF-8 byte order mark at the start of the script is skipped.
type Shell struct {
	Name    string // the path, or "<stdin>"
	Content string
	Stdin   bool // read from standard input
}

// ScriptError is a script the shell parser cannot read: where and why.
type ScriptError struct {
	Range diag.Range
	Msg   string
}

// Error formats the error as "run.sh:3:9: shell syntax error: ...".
func (e *ScriptError) Error() string {
	return fmt.Sprintf("%s: shell syntax error: %s", e.Range, e.Msg)
}

// Read parses the script and returns one input per command with flags, in
// script order. A script that does not parse is a *ScriptError.
func (s Shell) Read() ([]*Input, error) {
	file := originFile(s.Name, s.Content, s.Stdin)
	if i := strings.IndexByte(s.Content, 0); i >= 0 {
		// Shells drop or choke on NUL bytes; no word can hold one.
		return nil, &ScriptError{Range: file.Range(i, i+1), Msg: "NUL byte in the script"}
	}
	prog, err := parseScript(s.Name, s.Content)
	if err != nil {
		return nil, scriptError(file, err)
	}
	r := &shellReader{file: file, src: s.Content}
	syntax.Walk(prog, func(n syntax.Node) bool {
		switch n := n.(type) {
		case *syntax.Comment:
			r.comments = append(r.comments, shellComment{start: int(n.Hash.Offset()), text: "#" + strings.TrimRight(n.Text, "\r")})
		case *syntax.CmdSubst:
			if n.Backquotes {
				r.backquotes = append(r.backquotes, [2]int{int(n.Left.Offset()) + 1, int(n.Right.Offset())})
			}
		case *syntax.Stmt:
			if call, ok := n.Cmd.(*syntax.CallExpr); ok && len(call.Args) > 0 {
				r.stmts = append(r.stmts, n)
			}
		}
		return true
	})
	sort.SliceStable(r.comments, func(i, j int) bool { return r.comments[i].start < r.comments[j].start })
	var ins []*Input
	for _, st := range r.stmts {
		if in := r.command(s.Name, st); in != nil {
			ins = append(ins, in)
		}
	}
	return ins, nil
}

// parseScript parses a script as bash, keeping comments. A byte order
// mark at its start is read as blanks of the same length, so that the
// parser's offsets are offsets of the content.
func parseScript(name, content string) (*syntax.File, error) {
	if n := SkipBOM(content); n > 0 {
		content = strings.Repeat(" ", n) + content[n:]
	}
	p := syntax.NewParser(syntax.KeepComments(true), syntax.Variant(syntax.LangBash))
	return p.Parse(strings.NewReader(content), name)
}

// scriptError turns a parser error into a positioned ScriptError.
func scriptError(file *diag.File, err error) error {
	switch e := err.(type) {
	case syntax.ParseError:
		off := int(e.Pos.Offset())
		return &ScriptError{Range: file.Range(off, off), Msg: e.Text}
	case syntax.LangError:
		off := int(e.Pos.Offset())
		return &ScriptError{Range: file.Range(off, off), Msg: e.Feature + " is not supported by bash"}
	}
	return &ScriptError{Range: file.Range(0, 0), Msg: err.Error()}
}

// shellReader holds what Read gathered from the syntax tree.
type shellReader struct {
	file       *diag.File
	src        string
	comments   []shellComment
	backquotes [][2]int // content ranges of `...` substitutions
	stmts      []*syntax.Stmt
}

type shellComment struct {
	start int // offset of "#"
	text  string
}

// command returns the input of one simple command, or nil when it has no
// --allow-* words.
func (r *shellReader) command(script string, st *syntax.Stmt) *Input {
	call := st.Cmd.(*syntax.CallExpr)
	var in *Input
	newInput := func() {
		if in != nil {
			return
		}
		name := r.commandName(call.Args[0])
		line := r.file.Pos(int(call.Args[0].Pos().Offset())).Line
		in = &Input{Name: fmt.Sprintf("%s:%d %s", script, line, name), Kind: ScriptInput, Files: []*diag.File{r.file},
			Command: r.file.Range(int(call.Pos().Offset()), int(call.End().Offset()))}
	}
	args := call.Args
	for i := 1; i < len(args); i++ {
		w := r.word(args[i])
		if !strings.HasPrefix(w.prefix, "--allow-") {
			continue
		}
		name, _, hasEq := strings.Cut(w.prefix, "=")
		if !hasEq && len(w.dynamic) > 0 {
			if !mayNameFlag(w.prefix) {
				continue
			}
			newInput()
			in.Diags = append(in.Diags, r.dynamicDiag("flag name "+w.prefix+"...", w))
			continue
		}
		if !NearFlagName(name) {
			continue
		}
		newInput()
		if hasEq {
			if len(w.dynamic) > 0 {
				in.Diags = append(in.Diags, r.dynamicDiag("value of "+name, w))
				continue
			}
			in.Flags = append(in.Flags, &Flag{
				Text: w.text, Loc: w.segs,
				Words: []diag.Range{r.file.Range(w.start, w.end)}, Globs: w.globs,
			})
			continue
		}
		if i+1 >= len(args) {
			in.Flags = append(in.Flags, &Flag{
				Text: w.text, Loc: w.segs,
				Words: []diag.Range{r.file.Range(w.start, w.end)}, Globs: w.globs,
			})
			continue
		}
		v := r.word(args[i+1])
		if strings.HasPrefix(v.prefix, "-") {
			in.Flags = append(in.Flags, &Flag{
				Text: w.text, Loc: w.segs,
				Words: []diag.Range{r.file.Range(w.start, w.end)}, Globs: w.globs,
			})
			continue
		}
		i++
		if len(v.dynamic) > 0 {
			in.Diags = append(in.Diags, r.dynamicDiag("value of "+name, v))
			continue
		}
		segs := append(append(diag.Mapped{}, w.segs...), diag.Segment{Text: len(w.text), File: r.file, Origin: w.end, Len: 1})
		for _, s := range v.segs {
			s.Text += len(w.text) + 1
			segs = append(segs, s)
		}
		in.Flags = append(in.Flags, &Flag{
			Text: w.text + " " + v.text, Loc: segs,
			Words: []diag.Range{r.file.Range(w.start, w.end), r.file.Range(v.start, v.end)},
			Globs: append(append([]diag.Range(nil), w.globs...), v.globs...),
		})
	}
	if in == nil {
		return nil
	}
	in.Diags = append(in.Diags, r.redirectedFlags(st, in)...)
	r.attachComments(in)
	return in
}

// commandName names a command by its first word: the word without quotes
// when it is literal, else as written.
func (r *shellReader) commandName(w *syntax.Word) string {
	sw := r.word(w)
	if len(sw.dynamic) == 0 && sw.text != "" {
		return sw.text
	}
	return shortExpr(r.src[sw.start:sw.end])
}

// mayNameFlag reports whether a flag name that a dynamic part completes may
// be one of the three flags.
func mayNameFlag(prefix string) bool {
	for _, n := range ast.FlagNames() {
		if strings.HasPrefix(n, prefix) || strings.HasPrefix(prefix, n) {
			return true
		}
	}
	return NearFlagName(prefix)
}

// dynamicDiag reports that what (a flag's value or name) depends on the
// dynamic parts of w.
func (r *shellReader) dynamicDiag(what string, w shellWord) diag.Diagnostic {
	var names []string
	for _, d := range w.dynamic {
		name := shortExpr(r.src[d.start:d.end])
		if d.kind != "" {
			name = d.kind + " " + name
		}
		names = append(names, name)
	}
	first, last := w.dynamic[0], w.dynamic[len(w.dynamic)-1]
	return diag.Diagnostic{
		ID:       DynamicValueID,
		Severity: diag.Warning,
		Summary:  fmt.Sprintf("%s depends on %s; capspec checks literal flags only", what, prose.JoinAnd(names)),
		Detail:   "the shell computes this when the script runs, so the flag is left out of the policy; write it literally to have it checked",
		Range:    r.file.Range(first.start, last.end),
	}
}

// shortExpr returns a shell expression on one line, shortened for messages.
func shortExpr(s string) string {
	s = strings.Join(strings.Fields(strings.ReplaceAll(s, "\\\n", " ")), " ")
	if utf8.RuneCountInString(s) > 40 {
		rs := []rune(s)
		s = string(rs[:39]) + "…"
	}
	return s
}

// redirectedFlags reports a flag that ends in "-" right before a ">" that
// the shell reads as a redirection: an unquoted port mapping
// (tcp://*:80->8888) loses its host port and sends output to a file.
func (r *shellReader) redirectedFlags(st *syntax.Stmt, in *Input) []diag.Diagnostic {
	var ds []diag.Diagnostic
	for _, rd := range st.Redirs {
		if rd.Op != syntax.RdrOut && rd.Op != syntax.AppOut && rd.Op != syntax.RdrClob {
			continue
		}
		op := int(rd.OpPos.Offset())
		for _, f := range in.Flags {
			last := f.Words[len(f.Words)-1]
			if last.End.Offset != op || !strings.HasSuffix(f.Text, "-") {
				continue
			}
			end := int(rd.End().Offset())
			redir := r.src[op:end]
			d := diag.Diagnostic{
				ID:       "CS001",
				Severity: diag.Error,
				Summary:  fmt.Sprintf("the shell reads %q as a redirection: the flag ends at %q; quote the flag", redir, f.Text),
				Range:    r.file.Range(op, end),
			}
			if lit := rd.Word.Lit(); lit != "" && lit == r.src[rd.Word.Pos().Offset():rd.Word.End().Offset()] {
				redirected := r.src[op:int(rd.Word.Pos().Offset())] + lit
				var fixed string
				var err error
				if len(f.Words) == 1 {
					name, value, _ := strings.Cut(f.Text, "=")
					fixed, err = syntax.Quote(value+redirected, syntax.LangBash)
					fixed = name + "=" + fixed
				} else {
					_, value, _ := strings.Cut(f.Text, " ")
					fixed, err = syntax.Quote(value+redirected, syntax.LangBash)
				}
				if err == nil {
					d.Fixes = []diag.Fix{{Message: "quote the flag", Edits: []diag.TextEdit{{Range: r.file.Range(last.Start.Offset, end), NewText: fixed}}}}
				}
			}
			ds = append(ds, d)
		}
	}
	return ds
}

// attachComments gives an input the comment lines just above its command
// (to its first flag) and a comment ending its last line (beside its last
// flag).
func (r *shellReader) attachComments(in *Input) {
	if len(in.Flags) == 0 {
		return
	}
	start, end := in.Command.Start.Offset, in.Command.End.Offset
	startLine := in.Command.Start.Line
	// Own-line comments on the lines just above the command, nearest last.
	var above []*Comment
	line := startLine - 1
	for i := sort.Search(len(r.comments), func(i int) bool { return r.comments[i].start >= start }) - 1; i >= 0; i-- {
		c := r.comments[i]
		p := r.file.Pos(c.start)
		if p.Line != line || !r.ownLine(c.start) {
			break
		}
		above = append(above, &Comment{Text: c.text, Range: r.file.Range(c.start, c.start+len(c.text)), Flag: 0, Place: Above,
			BlankBefore: line > 1 && strings.TrimSpace(r.file.Line(line-1)) == ""})
		line--
	}
	for i := len(above) - 1; i >= 0; i-- {
		in.Comments = append(in.Comments, above[i])
	}
	endLine := in.Command.End.Line
	i := sort.Search(len(r.comments), func(i int) bool { return r.comments[i].start >= end })
	if i < len(r.comments) && r.file.Pos(r.comments[i].start).Line == endLine {
		c := r.comments[i]
		in.Comments = append(in.Comments, &Comment{Text: c.text, Range: r.file.Range(c.start, c.start+len(c.text)), Flag: len(in.Flags) - 1, Place: Beside})
	}
}

// ownLine reports whether only blanks precede offset on its line.
func (r *shellReader) ownLine(offset int) bool {
	i := strings.LastIndexByte(r.src[:offset], '\n') + 1
	return strings.TrimLeft(r.src[i:offset], " \t") == ""
}

// shellWord is a word of the script after quote removal, up to its first
// dynamic part.
// dynamicPart is a part of a word that the shell computes: its script
// range, and how messages name it when the script text alone is unclear.
type dynamicPart struct {
	start, end int
	kind       string // "" or "the brace expansion"
}

type shellWord struct {
	prefix  string      // the text before the first dynamic part
	text    string      // the whole text, when the word is literal
	segs    diag.Mapped // where each byte of text came from
	globs   []diag.Range
	dynamic []dynamicPart // the parts the shell computes
	start   int
	end     int
}

// wordBuilder accumulates a word's text and its mapping to the script.
type wordBuilder struct {
	file  *diag.File
	b     strings.Builder
	segs  diag.Mapped
	globs []diag.Range
}

// add appends byte c that came from script offset off.
func (wb *wordBuilder) add(c byte, off int) {
	n := wb.b.Len()
	if k := len(wb.segs) - 1; k >= 0 && wb.segs[k].Text+wb.segs[k].Len == n && wb.segs[k].Origin+wb.segs[k].Len == off {
		wb.segs[k].Len++
	} else {
		wb.segs = append(wb.segs, diag.Segment{Text: n, File: wb.file, Origin: off, Len: 1})
	}
	wb.b.WriteByte(c)
}

// unit is one byte of a quoting layer and where it is in the script.
type unit struct {
	c   byte
	off int
}

// units returns the bytes of the script range [start, end), with the
// escaping of enclosing backquotes (\\, \`, \$) removed.
func (r *shellReader) units(start, end int) []unit {
	start, end = max(0, min(start, len(r.src))), max(0, min(end, len(r.src)))
	inBackquotes := false
	for _, b := range r.backquotes {
		if b[0] <= start && end <= b[1] {
			inBackquotes = true
			break
		}
	}
	us := make([]unit, 0, max(0, end-start))
	for i := start; i < end; i++ {
		if inBackquotes && r.src[i] == '\\' && i+1 < len(r.src) && strings.IndexByte("\\`$", r.src[i+1]) >= 0 {
			if i+1 < end {
				us = append(us, unit{r.src[i+1], i + 1})
			}
			i++
			continue
		}
		us = append(us, unit{r.src[i], i})
	}
	return us
}

// word removes the quotes of a word, mapping every byte to the script.
func (r *shellReader) word(w *syntax.Word) shellWord {
	sw := shellWord{start: int(w.Pos().Offset()), end: int(w.End().Offset())}
	wb := &wordBuilder{file: r.file}
	dynamic := func(p syntax.Node) {
		if len(sw.dynamic) == 0 {
			sw.prefix = wb.b.String()
		}
		sw.dynamic = append(sw.dynamic, dynamicPart{start: int(p.Pos().Offset()), end: int(p.End().Offset())})
	}
	for _, p := range w.Parts {
		switch p := p.(type) {
		case *syntax.Lit:
			if br, ok := r.braceExpansion(p); ok {
				// The text before the brace is literal; the rest is computed.
				r.unquoted(wb, r.units(int(p.Pos().Offset()), br[0]))
				if len(sw.dynamic) == 0 {
					sw.prefix = wb.b.String()
				}
				sw.dynamic = append(sw.dynamic, dynamicPart{start: br[0], end: br[1], kind: "the brace expansion"})
				continue
			}
			r.unquoted(wb, r.units(int(p.Pos().Offset()), int(p.End().Offset())))
		case *syntax.ExtGlob:
			// A pattern is not computed: it is checked as written, and
			// its "*" is a glob (CS212).
			r.unquoted(wb, r.units(int(p.Pos().Offset()), int(p.End().Offset())))
		case *syntax.SglQuoted:
			if p.Dollar {
				ansiC(wb, r.units(int(p.Left.Offset())+2, int(p.Right.Offset())))
				continue
			}
			for _, u := range r.units(int(p.Left.Offset())+1, int(p.Right.Offset())) {
				wb.add(u.c, u.off)
			}
		case *syntax.DblQuoted:
			for _, q := range p.Parts {
				lit, ok := q.(*syntax.Lit)
				if !ok {
					dynamic(q)
					continue
				}
				doubleQuoted(wb, r.units(int(lit.Pos().Offset()), int(lit.End().Offset())))
			}
		default:
			dynamic(p)
		}
	}
	sw.text, sw.segs, sw.globs = wb.b.String(), wb.segs, wb.globs
	// A continuation line at either end of a word is a separator.
	for sw.start+2 <= sw.end && r.src[sw.start:sw.start+2] == "\\\n" {
		sw.start += 2
	}
	for sw.end-2 >= sw.start && r.src[sw.end-2:sw.end] == "\\\n" && !escapedAt(r.src, sw.end-2) {
		sw.end -= 2
	}
	if len(sw.dynamic) == 0 {
		sw.prefix = sw.text
	}
	return sw
}

// braceExpansion reports the range of a bash brace expansion ({a,b} or
// {1..3}) in an unquoted literal.
func (r *shellReader) braceExpansion(lit *syntax.Lit) ([2]int, bool) {
	if !strings.Contains(lit.Value, "{") {
		return [2]int{}, false
	}
	if !syntax.SplitBraces(&syntax.Word{Parts: []syntax.WordPart{&syntax.Lit{Value: lit.Value}}}) {
		return [2]int{}, false
	}
	start, end := int(lit.Pos().Offset()), int(lit.End().Offset())
	raw := r.src[start:end]
	open := strings.IndexByte(raw, '{')
	closing := strings.LastIndexByte(raw, '}')
	if open < 0 || closing < open {
		return [2]int{start, end}, true
	}
	return [2]int{start + open, start + closing + 1}, true
}

// unquoted removes backslash escapes and continuation lines from unquoted
// text and records its "*" characters as globs.
func (r *shellReader) unquoted(wb *wordBuilder, us []unit) {
	for i := 0; i < len(us); i++ {
		u := us[i]
		if u.c == '\\' && i+1 < len(us) {
			i++
			if us[i].c != '\n' {
				wb.add(us[i].c, us[i].off)
			}
			continue
		}
		if u.c == '*' {
			wb.globs = append(wb.globs, r.file.Range(u.off, u.off+1))
		}
		wb.add(u.c, u.off)
	}
}

// doubleQuoted removes the escapes of text between double quotes: a
// backslash escapes $ ` " \ and newline only.
func doubleQuoted(wb *wordBuilder, us []unit) {
	for i := 0; i < len(us); i++ {
		u := us[i]
		if u.c == '\\' && i+1 < len(us) && strings.IndexByte("$`\"\\\n", us[i+1].c) >= 0 {
			i++
			if us[i].c != '\n' {
				wb.add(us[i].c, us[i].off)
			}
			continue
		}
		wb.add(u.c, u.off)
	}
}

// ansiC decodes the escapes of bash's $'...' quoting. The bytes an escape
// stands for map to the first bytes of the escape.
func ansiC(wb *wordBuilder, us []unit) {
	simple := map[byte]byte{'a': '\a', 'b': '\b', 'e': 0x1b, 'E': 0x1b, 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t', 'v': '\v',
		'\\': '\\', '\'': '\'', '"': '"', '?': '?'}
	for i := 0; i < len(us); i++ {
		u := us[i]
		if u.c != '\\' || i+1 >= len(us) {
			wb.add(u.c, u.off)
			continue
		}
		e := us[i+1].c
		if c, ok := simple[e]; ok {
			wb.add(c, u.off)
			i++
			continue
		}
		digits := func(from, maxN int, isDigit func(byte) bool) string {
			var s []byte
			for j := from; j < len(us) && len(s) < maxN && isDigit(us[j].c); j++ {
				s = append(s, us[j].c)
			}
			return string(s)
		}
		var out []byte
		n := 0 // escape length after the backslash
		switch {
		case e >= '0' && e <= '7':
			d := digits(i+1, 3, func(c byte) bool { return c >= '0' && c <= '7' })
			v, _ := strconv.ParseUint(d, 8, 16)
			out, n = []byte{byte(v)}, len(d)
		case e == 'x':
			if d := digits(i+2, 2, isHex); d != "" {
				v, _ := strconv.ParseUint(d, 16, 8)
				out, n = []byte{byte(v)}, 1+len(d)
			}
		case e == 'u' || e == 'U':
			maxN := 4
			if e == 'U' {
				maxN = 8
			}
			if d := digits(i+2, maxN, isHex); d != "" {
				v, _ := strconv.ParseUint(d, 16, 32)
				out, n = utf8.AppendRune(nil, rune(v)), 1+len(d)
			}
		case e == 'c' && i+2 < len(us):
			out, n = []byte{us[i+2].c & 0x1f}, 2
		}
		if n == 0 {
			// Not an escape bash knows: the backslash stays.
			wb.add(u.c, u.off)
			continue
		}
		for k, c := range out {
			wb.add(c, us[i+min(k, n)].off)
		}
		i += n
	}
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}
