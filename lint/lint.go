package lint

import (
	"slices"
	"sort"
	"strings"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/diff"
	"github.com/capspec/capspec/policy"
	"github.com/capspec/capspec/source"
)

// Options configures a run of the linter.
type Options struct {
	// Disable holds rule IDs not to report.
	Disable []string
	// Compiled is the policy linted as policy.Compile compiles it, when
	// the caller has compiled it already; Lint compiles it otherwise.
	Compiled *Compiled
	// Within is the maximum policy CS401 checks rules against (nil: none).
	Within *diff.Maximum
}

// Compiled is a policy as policy.Compile compiles it, and the diagnostics
// of compiling it.
type Compiled struct {
	Policy *policy.Policy
	Diags  []diag.Diagnostic
	// ForgetSyntax lets Lint call Policy.ForgetSyntax once its rules have
	// run, before it gathers their findings: for a caller that needs of
	// the syntax only where each rule is written (explain), so that the
	// tree can be freed sooner.
	ForgetSyntax bool
}

// Lint runs every enabled rule over one policy and returns the
// diagnostics, sorted: those of reading and parsing the input (parsed),
// and those of the rules. Diagnostics silenced by a "# capspec:ignore"
// comment of the input and those of disabled rules are left out. A flag
// with more than diag.MaxPerFlag findings gets the first ones and one
// omission that counts the rest (diag.Cap). With Options.Within, Lint
// lets go of p before it checks the rules against the maximum, so that a
// caller that drops its own reference when the call starts lets a large
// syntax tree be freed early.
func Lint(in *source.Input, p *ast.Policy, parsed []diag.Diagnostic, opts Options) []diag.Diagnostic {
	disabled := map[string]bool{}
	for _, id := range opts.Disable {
		disabled[strings.ToUpper(strings.TrimSpace(id))] = true
	}
	if p == nil {
		p = &ast.Policy{Name: in.Name}
	}
	rules := Rules()
	sh := &shared{ids: map[string]bool{}, within: opts.Within}
	if c := opts.Compiled; c != nil {
		sh.policy, sh.compileDiags = c.Policy, c.Diags
	}
	for _, r := range rules {
		sh.ids[r.ID] = true
	}
	// The findings: those of parsing, then each rule's in turn. A run may
	// find a hundred thousand: they are stored compactly (diag.Store) while
	// the syntax tree and the compiled policy are alive, and made whole
	// once those can be freed.
	store := diag.NewStore(in.Files)
	store.AddAll(parsed)
	var late *Rule
	for i := range rules {
		r := &rules[i]
		if r.Run == nil || disabled[r.ID] {
			continue
		}
		if r.ID == exceedsMaximumRule.ID && opts.Within != nil {
			late = r
			continue
		}
		r.Run(&Pass{Rule: r, Input: in, Policy: p, shared: sh, out: store})
	}
	if late != nil {
		// CS401 runs last, without the syntax tree: it reads the compiled
		// policy, whose rules keep where they are written. A check against
		// a maximum may find an excess in each of a hundred thousand rules,
		// and the tree is freed before they are found when nothing else
		// holds it (a caller that hands it over, a policy Lint compiled).
		(&Pass{Policy: p, shared: sh}).compiled()
		if opts.Compiled == nil || opts.Compiled.ForgetSyntax {
			sh.policy.ForgetSyntax()
		}
		p, sh.redundancy = nil, nil
		late.Run(&Pass{Rule: late, Input: in, shared: sh, out: store})
	}
	// What the rules computed is not needed to sort, silence and cap the
	// findings (of a large policy checked against a maximum, a hundred
	// thousand): it can be freed now, when Lint compiled it.
	if c := opts.Compiled; c != nil && c.ForgetSyntax && late == nil { // (with late, done above)
		c.Policy.ForgetSyntax()
	}
	sh.policy, sh.compileDiags, sh.redundancy = nil, nil, nil
	out := store.Diagnostics()
	out = slices.DeleteFunc(out, func(d diag.Diagnostic) bool { return disabled[d.ID] })
	fl := newFlagLines(in)
	out = suppress(in, fl, out, sh.known)
	diag.Sort(out)
	// At most diag.MaxPerFlag findings per flag, then one that counts the rest.
	out = diag.Cap(out, func(d diag.Diagnostic) int { return fl.flagOf(d.Range) })
	diag.Sort(out)
	return out
}

// shared holds what several rules of one run compute from the policy,
// computed once when first asked for.
type shared struct {
	ids          map[string]bool // every rule ID
	policy       *policy.Policy
	compileDiags []diag.Diagnostic
	redundancy   *redundancy
	within       *diff.Maximum // the maximum of CS401, or nil
}

// known reports whether id is a rule's ID.
func (s *shared) known(id string) bool { return s.ids[id] }

// suppress drops the diagnostics that a "# capspec:ignore" comment of the
// input silences.
func suppress(in *source.Input, fl *flagLines, ds []diag.Diagnostic, known func(string) bool) []diag.Diagnostic {
	dirs := directives(in, known)
	if len(dirs) == 0 || len(ds) == 0 {
		return ds
	}
	// ignored[flag] holds the IDs silenced for that flag; command the IDs
	// silenced for every finding of a script's command.
	ignored := map[int]map[string]bool{}
	command := map[string]bool{}
	for _, dir := range dirs {
		flags, whole := fl.targets(dir.comment)
		for _, f := range flags {
			if ignored[f] == nil {
				ignored[f] = map[string]bool{}
			}
			for _, id := range dir.ids {
				ignored[f][id] = true
			}
		}
		if whole {
			for _, id := range dir.ids {
				command[id] = true
			}
		}
	}
	kept := ds[:0]
	for _, d := range ds {
		if f := fl.flagOf(d.Range); command[d.ID] || f >= 0 && ignored[f][d.ID] {
			continue
		}
		kept = append(kept, d)
	}
	return kept
}

// lineKey is a line of an origin.
type lineKey struct {
	origin string
	line   int
}

// span is the origin range of a word of flag Flag.
type span struct {
	start, end int
	flag       int
}

// flagLines indexes the flags of an input by the lines they start and end
// on, and their words by origin.
type flagLines struct {
	in       *source.Input
	starting map[lineKey][]int
	ending   map[lineKey][]int
	comments map[lineKey]bool // lines holding a comment on its own
	words    map[string][]span
	// first[i] is the first flag of flag i's statement: its line and the
	// lines joined to it by a trailing backslash (flags files), its
	// command (scripts).
	first []int
}

func newFlagLines(in *source.Input) *flagLines {
	fl := &flagLines{in: in, starting: map[lineKey][]int{}, ending: map[lineKey][]int{},
		comments: map[lineKey]bool{}, words: map[string][]span{}, first: make([]int, len(in.Flags))}
	for i, f := range in.Flags {
		s := lineKey{f.Range().Origin, f.Range().Start.Line}
		e := lineKey{f.Range().Origin, f.Range().End.Line}
		fl.starting[s] = append(fl.starting[s], i)
		fl.ending[e] = append(fl.ending[e], i)
		for _, w := range f.Words {
			fl.words[w.Origin] = append(fl.words[w.Origin], span{w.Start.Offset, w.End.Offset, i})
		}
		if i > 0 && (in.Kind == source.ScriptInput || continues(in, i)) {
			fl.first[i] = fl.first[i-1]
		} else {
			fl.first[i] = i
		}
	}
	for _, ws := range fl.words {
		sort.Slice(ws, func(i, j int) bool { return ws[i].start < ws[j].start })
	}
	for _, c := range in.Comments {
		if !fl.beside(c) {
			fl.comments[lineKey{c.Range.Origin, c.Range.Start.Line}] = true
		}
	}
	return fl
}

// beside reports whether a comment ends the line of a flag.
func (fl *flagLines) beside(c *source.Comment) bool {
	for _, i := range fl.ending[lineKey{c.Range.Origin, c.Range.Start.Line}] {
		if fl.in.Flags[i].Range().End.Offset <= c.Range.Start.Offset {
			return true
		}
	}
	return false
}

// targets returns the flags a suppression comment applies to
// (docs/lint.md, "Silencing findings"): the flags ending on its line when
// it stands beside them; else, in a script, the whole command (whole is
// true: source.Shell gives a command only the comment lines just above it
// and a comment ending its last line); else the flags of the statement
// starting on the first line after the block of comment lines it belongs
// to.
func (fl *flagLines) targets(c *source.Comment) (flags []int, whole bool) {
	k := lineKey{c.Range.Origin, c.Range.Start.Line}
	if fl.beside(c) {
		return fl.ending[k], false
	}
	if fl.in.Kind == source.ScriptInput {
		return fl.statement(0), true
	}
	for k.line++; ; k.line++ {
		if fs := fl.starting[k]; len(fs) > 0 {
			return fl.statement(fs[0]), false
		}
		if !fl.comments[k] {
			return nil, false
		}
	}
}

// statement returns the flags of flag i's statement, in order.
func (fl *flagLines) statement(i int) []int {
	var out []int
	for j := fl.first[i]; j < len(fl.first) && fl.first[j] == fl.first[i]; j++ {
		out = append(out, j)
	}
	return out
}

// continues reports whether flag i of a flags file is on the logical line
// of flag i-1, as source.FlagsFile reads lines: only blanks and
// backslash-newlines (a trailing backslash joins lines) stand between them, no
// comment and no other line break.
func continues(in *source.Input, i int) bool {
	a, b := in.Flags[i-1].Range(), in.Flags[i].Range()
	if a.Origin != b.Origin {
		return false
	}
	f := in.File(a.Origin)
	if f == nil || a.End.Offset > b.Start.Offset || b.Start.Offset > len(f.Content) {
		return false
	}
	gap := f.Content[a.End.Offset:b.Start.Offset]
	if strings.IndexByte(gap, '#') >= 0 {
		return false
	}
	for j := 0; j < len(gap); j++ {
		if gap[j] != '\n' {
			continue
		}
		if !strings.HasSuffix(gap[:j], "\\") && !strings.HasSuffix(gap[:j], "\\\r") {
			return false
		}
	}
	return true
}

// flagOf returns the flag a diagnostic at r is about: the flag with a word
// holding r's start, or else the last flag ending on r's line, or -1.
func (fl *flagLines) flagOf(r diag.Range) int {
	ws := fl.words[r.Origin]
	i := sort.Search(len(ws), func(i int) bool { return ws[i].start > r.Start.Offset }) - 1
	if i >= 0 && r.Start.Offset <= ws[i].end {
		return ws[i].flag
	}
	if fs := fl.ending[lineKey{r.Origin, r.Start.Line}]; len(fs) > 0 {
		return fs[len(fs)-1]
	}
	return -1
}
