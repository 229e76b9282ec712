// Package report writes lint diagnostics in the formats CI systems read:
// SARIF 2.1.0 (code scanning) and GitHub Actions workflow commands.
package report

import (
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"

	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/lint"
)

// Tool describes the program that wrote a report.
type Tool struct {
	Name           string // "capspec"
	Version        string // "" when unknown
	InformationURI string
}

// FingerprintKey is the key of capspec's partial fingerprint of a result.
const FingerprintKey = "capspecLocation/v1"

// SARIF builds a SARIF 2.1.0 log of one run: every rule in
// tool.driver.rules, and one result per diagnostic with its rule, level,
// message, physical location and fixes. files gives the content of
// origins, for fingerprints; it may be nil.
func SARIF(tool Tool, rules []lint.Rule, ds []diag.Diagnostic, files diag.Files) *sarif.Report {
	run := sarif.NewRunWithInformationURI(tool.Name, tool.InformationURI)
	if tool.Version != "" {
		run.Tool.Driver.WithVersion(tool.Version)
	}
	run.ColumnKind = ptr("unicodeCodePoints")
	for _, r := range rules {
		run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, descriptor(r))
	}
	rs := newResults(rules, files)
	for _, d := range ds {
		run.AddResult(rs.result(d))
	}
	return sarif.NewReport().AddRun(run)
}

// WriteSARIF writes the SARIF log of SARIF, indented, one result at a
// time (see writeSARIF).
func WriteSARIF(w io.Writer, tool Tool, rules []lint.Rule, ds []diag.Diagnostic, files diag.Files) error {
	return writeSARIF(w, tool, rules, ds, files)
}

// Level maps a severity to a SARIF level: error, warning, note.
func Level(s diag.Severity) string {
	switch s {
	case diag.Error:
		return sarif.LevelError
	case diag.Warning:
		return sarif.LevelWarning
	}
	return sarif.LevelNote
}

// descriptor describes a rule for tool.driver.rules.
func descriptor(r lint.Rule) *sarif.ReportingDescriptor {
	d := sarif.NewRule(r.ID).WithName(r.Name)
	d.ShortDescription = sarif.NewMultiformatMessageString().WithText(r.Doc.Summary)
	d.FullDescription = sarif.NewMultiformatMessageString().WithText(oneParagraph(r.Doc.Rationale))
	d.Help = sarif.NewMultiformatMessageString().WithText(helpText(r)).WithMarkdown(helpMarkdown(r))
	cfg := sarif.NewReportingConfiguration()
	cfg.Level = Level(r.Severity)
	d.DefaultConfiguration = cfg
	props := sarif.NewPropertyBag()
	if r.IsSecurity() {
		props.Add("security-severity", strconv.FormatFloat(r.SecuritySeverity, 'f', 1, 64))
		props.AddTag("security")
	}
	props.AddTag(category(r.ID))
	d.Properties = props
	return d
}

// category names the group of a rule ID.
func category(id string) string {
	switch {
	case id < "CS100":
		return "syntax"
	case id < "CS200":
		return "conflict"
	case id < "CS300":
		return "risk"
	case id < "CS900":
		return "style"
	}
	return "suppression"
}

func oneParagraph(s string) string { return strings.Join(strings.Fields(s), " ") }

func helpText(r lint.Rule) string {
	return fmt.Sprintf("%s\n\n%s\n\nReported:\n%s\nNot reported:\n%s", r.Doc.Summary, r.Doc.Rationale, r.Doc.Bad, r.Doc.Good)
}

func helpMarkdown(r lint.Rule) string {
	return fmt.Sprintf("**%s** (%s)\n\n%s\n\nReported:\n\n```shell\n%s```\n\nNot reported:\n\n```shell\n%s```\n",
		r.Name, r.ID, r.Doc.Rationale, r.Doc.Bad, r.Doc.Good)
}

// physical returns the SARIF location of a range.
func physical(r diag.Range) *sarif.PhysicalLocation {
	region := sarif.NewRegion().
		WithStartLine(max(r.Start.Line, 1)).WithStartColumn(max(r.Start.Column, 1)).
		WithEndLine(max(r.End.Line, r.Start.Line, 1)).WithEndColumn(max(r.End.Column, 1)).
		WithByteOffset(r.Start.Offset).WithByteLength(r.End.Offset - r.Start.Offset)
	return sarif.NewPhysicalLocation().WithArtifactLocation(artifact(r.Origin)).WithRegion(region)
}

// artifact returns the location of an origin: a relative path against
// %SRCROOT%, a file URI for an absolute path, and the escaped origin name
// for standard input and command-line arguments.
func artifact(origin string) *sarif.ArtifactLocation {
	loc := sarif.NewArtifactLocation()
	switch {
	case origin == "<stdin>" || diag.IsArgOrigin(origin):
		loc.WithURI(url.PathEscape(origin))
	case filepath.IsAbs(origin):
		loc.WithURI((&url.URL{Scheme: "file", Path: filepath.ToSlash(origin)}).String())
	default:
		loc.WithURI((&url.URL{Path: filepath.ToSlash(origin)}).EscapedPath()).WithURIBaseID("%SRCROOT%")
	}
	return loc
}

// sarifFix converts a suggested fix.
func sarifFix(f diag.Fix) *sarif.Fix {
	fix := sarif.NewFix().WithDescription(sarif.NewTextMessage(f.Message))
	byOrigin := map[string]*sarif.ArtifactChange{}
	for _, e := range f.Edits {
		ch := byOrigin[e.Range.Origin]
		if ch == nil {
			ch = sarif.NewArtifactChange().WithArtifactLocation(artifact(e.Range.Origin))
			byOrigin[e.Range.Origin] = ch
			fix.ArtifactChanges = append(fix.ArtifactChanges, ch)
		}
		rep := sarif.NewReplacement().WithDeletedRegion(
			sarif.NewRegion().
				WithStartLine(max(e.Range.Start.Line, 1)).WithStartColumn(max(e.Range.Start.Column, 1)).
				WithEndLine(max(e.Range.End.Line, 1)).WithEndColumn(max(e.Range.End.Column, 1)).
				WithByteOffset(e.Range.Start.Offset).WithByteLength(e.Range.End.Offset - e.Range.Start.Offset))
		rep.WithInsertedContent(sarif.NewArtifactContent().WithText(e.NewText))
		ch.Replacements = append(ch.Replacements, rep)
	}
	return fix
}

func ptr[T any](v T) *T { return &v }
