// Package playground is the API of capspec's in-browser playground (SPEC
// §10): pure functions from the texts of the page — the policy, the
// requests, the old policy for diff, the interface table — to plain,
// JSON-encodable results. It stands on the same packages as the command
// line (grammar, lint, normalize, explain, eval, diff, policy), so the page
// shows what `capspec lint`, `fmt`, `explain`, `eval` and `diff` print.
//
// Package playground/wasm compiles it to WebAssembly for the page;
// everything here runs, and is tested, on the host as well.
//
// Offsets handed to the page (Diagnostic.Start, Edit.Start, ...) count
// UTF-16 code units, as JavaScript string indices and a textarea's
// selectionStart do; lines and columns count as the command line does
// (columns in Unicode code points).
package playground

import (
	"fmt"
	"strings"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/explain"
	"github.com/capspec/capspec/grammar"
	"github.com/capspec/capspec/lint"
	"github.com/capspec/capspec/normalize"
	"github.com/capspec/capspec/policy"
	"github.com/capspec/capspec/source"
)

// The origins the page's texts are named by in positions and messages.
const (
	PolicyOrigin   = "policy.flags"
	OldOrigin      = "old.flags"
	RequestsOrigin = "requests"
)

// Input is everything the page holds.
type Input struct {
	// Policy is the policy being edited, as a flags file.
	Policy string `json:"policy"`
	// Requests are requests to decide, one per line (SPEC §3.6).
	Requests string `json:"requests"`
	// Old is the old policy diff compares the policy with, as a flags file.
	Old string `json:"old"`
	// Interfaces is the interface table the requests' listens are decided
	// with (see ParseInterfaces). The diff does not use it: as `capspec
	// diff`, it decides listens with no interface table.
	Interfaces string `json:"interfaces"`
}

// Analysis is what the page shows of one Input.
type Analysis struct {
	// Diagnostics are the findings of `capspec lint` on the policy, sorted.
	Diagnostics []Diagnostic `json:"diagnostics"`
	// Canonical is the output of `capspec fmt` on the policy.
	Canonical Panel `json:"canonical"`
	// Explanation is the output of `capspec explain` on the policy.
	Explanation Panel `json:"explanation"`
	// Eval decides the requests against the policy.
	Eval EvalResult `json:"eval"`
	// Diff compares the old policy with the policy.
	Diff DiffResult `json:"diff"`
}

// Panel is the text of one output panel, or, when the command would refuse
// (a policy with errors), why there is none.
type Panel struct {
	Text        string `json:"text"`
	Unavailable string `json:"unavailable,omitempty"`
}

// Analyze computes every panel of the page for one input.
func Analyze(in Input) Analysis { return new(Session).Analyze(in) }

// Session computes the panels of successive inputs of one page, reading
// again only the texts that changed since the last call: typing in the
// policy does not parse the old policy again. A Session is not safe for
// concurrent use; its zero value is ready.
type Session struct {
	docs    map[string]*document      // the last document of each origin
	parsers map[string]*grammar.Cache // per origin: a flag that did not change is not parsed again
}

// document returns the document of a text, read again only when the text
// differs from the last one of its origin.
func (s *Session) document(origin, text string) *document {
	if d, ok := s.docs[origin]; ok && d.text == text {
		return d
	}
	if s.docs == nil {
		s.docs, s.parsers = map[string]*document{}, map[string]*grammar.Cache{}
	}
	d, parser := readDocument(origin, text, s.parsers[origin])
	s.docs[origin], s.parsers[origin] = d, parser
	return d
}

// Analyze computes every panel of the page for one input. The policy is
// read, parsed and linted once.
func (s *Session) Analyze(in Input) Analysis {
	doc := s.document(PolicyOrigin, in.Policy)
	a := Analysis{Diagnostics: doc.diagnostics(), Canonical: doc.canonical(), Explanation: doc.explanation()}
	ifaces, ifaceErr := ParseInterfaces(in.Interfaces)
	a.Eval = doc.eval(in.Requests, ifaces, ifaceErr)
	a.Diff = diffDocuments(s.document(OldOrigin, in.Old), doc)
	return a
}

// Eval decides request lines against a policy, as the package function Eval.
func (s *Session) Eval(policyText, requests, interfaces string) EvalResult {
	ifaces, err := ParseInterfaces(interfaces)
	return s.document(PolicyOrigin, policyText).eval(requests, ifaces, err)
}

// Diff compares two policies, as the package function Diff.
func (s *Session) Diff(oldText, newText string) DiffResult {
	return diffDocuments(s.document(OldOrigin, oldText), s.document(PolicyOrigin, newText))
}

// Lint returns the diagnostics of a policy, as `capspec lint` finds them.
func Lint(policyText string) []Diagnostic { return new(Session).Lint(policyText) }

// Format returns the canonical form of a policy, as `capspec fmt` prints it.
func Format(policyText string) Panel { return new(Session).Format(policyText) }

// Explain returns the account of a policy, as `capspec explain` prints it.
func Explain(policyText string) Panel { return new(Session).Explain(policyText) }

// Lint returns the diagnostics of a policy, as the package function Lint.
func (s *Session) Lint(policyText string) []Diagnostic {
	return s.document(PolicyOrigin, policyText).diagnostics()
}

// Format returns the canonical form of a policy, as the package function Format.
func (s *Session) Format(policyText string) Panel {
	return s.document(PolicyOrigin, policyText).canonical()
}

// Explain returns the account of a policy, as the package function Explain.
func (s *Session) Explain(policyText string) Panel {
	return s.document(PolicyOrigin, policyText).explanation()
}

// document is one policy text, read, parsed, linted and compiled.
type document struct {
	origin   string
	text     string
	input    *source.Input
	ast      *ast.Policy
	parsed   []diag.Diagnostic // of reading and parsing
	findings []diag.Diagnostic // of lint (parsed included, suppressions applied): see lint
	linted   bool
	policy   *policy.Policy
	// errors are the errors that make fmt, eval and diff refuse the
	// policy: those of reading and parsing, and mapping conflicts (CS101),
	// whatever the suppressions (as cli.policyErrors).
	errors []diag.Diagnostic
}

// readDocument reads a text as a flags file named origin, parsing it with
// the cache of the origin's last text; it returns the cache of this text.
func readDocument(origin, text string, cache *grammar.Cache) (*document, *grammar.Cache) {
	d := &document{origin: origin, text: text}
	ins, err := source.FlagsFile{Name: origin, Content: text}.Read()
	if err != nil || len(ins) != 1 {
		// A flags file always reads as one input; keep an empty policy
		// rather than fail if that ever changes.
		ins = []*source.Input{{Name: origin, Files: []*diag.File{diag.NewFile(origin, text)}}}
	}
	d.input = ins[0]
	res, next := cache.Parse(d.input)
	d.ast = res[0].Policy
	d.parsed = append(append([]diag.Diagnostic(nil), d.input.Diags...), res[0].Diags...)
	cp, conflicts := policy.Compile(d.ast)
	d.policy = cp
	for _, x := range append(append([]diag.Diagnostic(nil), d.parsed...), conflicts...) {
		if x.Severity == diag.Error {
			d.errors = append(d.errors, x)
		}
	}
	diag.Sort(d.errors)
	return d, next
}

// lint returns the findings of capspec lint, linting on first use (the old
// policy of a diff is never linted).
func (d *document) lint() []diag.Diagnostic {
	if !d.linted {
		d.findings = lint.Lint(d.input, d.ast, d.parsed, lint.Options{})
		d.linted = true
	}
	return d.findings
}

// refusal says why a command refuses the document, or "" when it does not.
func (d *document) refusal(errs []diag.Diagnostic, what string) string {
	if len(errs) == 0 {
		return ""
	}
	return fmt.Sprintf("%s has %s: fix %s to see %s.", d.origin, plural(len(errs), "error"), them(len(errs)), what)
}

func them(n int) string {
	if n == 1 {
		return "it"
	}
	return "them"
}

// plural writes "1 error", "2 errors".
func plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// canonical is the output of capspec fmt.
func (d *document) canonical() Panel {
	if why := d.refusal(d.errors, "its canonical form"); why != "" {
		return Panel{Unavailable: why}
	}
	return Panel{Text: normalize.Format(d.ast, d.input).String()}
}

// explanation is the output of capspec explain, as explain.Parsed decides
// it: the lint errors (suppressions applied), then mapping conflicts,
// refuse the policy.
func (d *document) explanation() Panel {
	var errs []diag.Diagnostic
	for _, x := range d.lint() {
		if x.Severity == diag.Error {
			errs = append(errs, x)
		}
	}
	if len(errs) == 0 {
		_, conflicts := policy.Compile(d.ast)
		errs = conflicts
	}
	if why := d.refusal(errs, "its explanation"); why != "" {
		return Panel{Unavailable: why}
	}
	acct := explain.Explain(explain.Input{Name: d.origin, Policy: d.policy, Flags: d.input.Flags, Findings: d.lint()})
	var b strings.Builder
	if err := explain.WriteText(&b, []*explain.Account{acct}, nil); err != nil {
		return Panel{Unavailable: err.Error()}
	}
	return Panel{Text: b.String()}
}
