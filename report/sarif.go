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

	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/lint"
)

// Tool describes the program that wrote a report.
type Tool struct {
	Name    string // "capspec"
	Version string // tool.driver.version; "" when unknown
	// SemanticVersion is tool.driver.semanticVersion: the version in
	// Semantic Versioning 2.0.0 form, or "" when it is not one.
	SemanticVersion string
	InformationURI  string
}

// FingerprintKey is the key of capspec's partial fingerprint of a result.
const FingerprintKey = "capspecLocation/v1"

// The SARIF 2.1.0 log, as far as capspec fills it in. Every property is one
// capspec knows; none is padded with a schema default (no -1 indices, no
// empty arrays, no invented language or rank).
type (
	sarifLog struct {
		Schema  string     `json:"$schema"`
		Version string     `json:"version"`
		Runs    []sarifRun `json:"runs"`
	}
	sarifRun struct {
		Tool       sarifTool     `json:"tool"`
		ColumnKind string        `json:"columnKind"`
		Results    []sarifResult `json:"results"`
	}
	sarifTool struct {
		Driver sarifDriver `json:"driver"`
	}
	sarifDriver struct {
		Name            string      `json:"name"`
		Version         string      `json:"version,omitempty"`
		SemanticVersion string      `json:"semanticVersion,omitempty"`
		InformationURI  string      `json:"informationUri,omitempty"`
		Rules           []sarifRule `json:"rules"`
	}
	sarifRule struct {
		ID                   string             `json:"id"`
		Name                 string             `json:"name"`
		ShortDescription     sarifMessage       `json:"shortDescription"`
		FullDescription      sarifMessage       `json:"fullDescription"`
		Help                 sarifMessage       `json:"help"`
		DefaultConfiguration sarifConfiguration `json:"defaultConfiguration"`
		Properties           sarifProperties    `json:"properties"`
	}
	sarifMessage struct {
		Text     string `json:"text"`
		Markdown string `json:"markdown,omitempty"`
	}
	sarifConfiguration struct {
		Level string `json:"level"`
	}
	sarifProperties struct {
		SecuritySeverity string   `json:"security-severity,omitempty"`
		Tags             []string `json:"tags"`
	}
	sarifResult struct {
		RuleID              string            `json:"ruleId"`
		RuleIndex           *int              `json:"ruleIndex,omitempty"`
		Level               string            `json:"level"`
		Message             sarifMessage      `json:"message"`
		Locations           []sarifLocation   `json:"locations"`
		PartialFingerprints map[string]string `json:"partialFingerprints"`
		Fixes               []sarifFix        `json:"fixes,omitempty"`
	}
	sarifLocation struct {
		PhysicalLocation sarifPhysicalLocation `json:"physicalLocation"`
	}
	sarifPhysicalLocation struct {
		ArtifactLocation sarifArtifactLocation `json:"artifactLocation"`
		Region           sarifRegion           `json:"region"`
	}
	sarifArtifactLocation struct {
		URI       string `json:"uri"`
		URIBaseID string `json:"uriBaseId,omitempty"`
	}
	sarifRegion struct {
		StartLine   int `json:"startLine"`
		StartColumn int `json:"startColumn"`
		EndLine     int `json:"endLine"`
		EndColumn   int `json:"endColumn"`
		ByteOffset  int `json:"byteOffset"`
		ByteLength  int `json:"byteLength"`
	}
	sarifFix struct {
		Description     sarifMessage          `json:"description"`
		ArtifactChanges []sarifArtifactChange `json:"artifactChanges"`
	}
	sarifArtifactChange struct {
		ArtifactLocation sarifArtifactLocation `json:"artifactLocation"`
		Replacements     []sarifReplacement    `json:"replacements"`
	}
	sarifReplacement struct {
		DeletedRegion   sarifRegion          `json:"deletedRegion"`
		InsertedContent sarifArtifactContent `json:"insertedContent"`
	}
	sarifArtifactContent struct {
		Text string `json:"text"`
	}
)

// sarifSchema is the $schema of the log.
const sarifSchema = "https://raw.githubusercontent.com/oasis-tcs/sarif-spec/main/sarif-2.1/schema/sarif-schema-2.1.0.json"

// buildSARIF builds the SARIF 2.1.0 log of one run: every rule in
// tool.driver.rules, and one result per diagnostic with its rule, level,
// message, physical location, fingerprint and fixes. files gives the
// content of origins, for fingerprints; it may be nil.
func buildSARIF(tool Tool, rules []lint.Rule, ds []diag.Diagnostic, files diag.Files) *sarifLog {
	run := sarifRun{
		Tool: sarifTool{Driver: sarifDriver{Name: tool.Name, Version: tool.Version,
			SemanticVersion: tool.SemanticVersion, InformationURI: tool.InformationURI, Rules: []sarifRule{}}},
		ColumnKind: "unicodeCodePoints",
		Results:    []sarifResult{},
	}
	for _, r := range rules {
		run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, descriptor(r))
	}
	rs := newResults(rules, files)
	for _, d := range ds {
		run.Results = append(run.Results, rs.result(d))
	}
	return &sarifLog{Schema: sarifSchema, Version: "2.1.0", Runs: []sarifRun{run}}
}

// WriteSARIF writes the SARIF 2.1.0 log of a run (see buildSARIF),
// indented, one result at a time (see writeSARIF).
func WriteSARIF(w io.Writer, tool Tool, rules []lint.Rule, ds []diag.Diagnostic, files diag.Files) error {
	return writeSARIF(w, tool, rules, ds, files)
}

// Level maps a severity to a SARIF level: error, warning, note.
func Level(s diag.Severity) string {
	switch s {
	case diag.Error:
		return "error"
	case diag.Warning:
		return "warning"
	}
	return "note"
}

// descriptor describes a rule for tool.driver.rules.
func descriptor(r lint.Rule) sarifRule {
	d := sarifRule{
		ID:                   r.ID,
		Name:                 r.Name,
		ShortDescription:     sarifMessage{Text: r.Doc.Summary},
		FullDescription:      sarifMessage{Text: oneParagraph(r.Doc.Rationale)},
		Help:                 sarifMessage{Text: helpText(r), Markdown: helpMarkdown(r)},
		DefaultConfiguration: sarifConfiguration{Level: Level(r.Severity)},
	}
	if r.IsSecurity() {
		d.Properties.SecuritySeverity = strconv.FormatFloat(r.SecuritySeverity, 'f', 1, 64)
		d.Properties.Tags = append(d.Properties.Tags, "security")
	}
	d.Properties.Tags = append(d.Properties.Tags, category(r.ID))
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
	case id >= "CS400" && id < "CS500":
		return "maximum"
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

// region returns the SARIF region of a range: lines and columns (in code
// points, as columnKind says) and bytes.
func region(r diag.Range) sarifRegion {
	return sarifRegion{
		StartLine: max(r.Start.Line, 1), StartColumn: max(r.Start.Column, 1),
		EndLine: max(r.End.Line, r.Start.Line, 1), EndColumn: max(r.End.Column, 1),
		ByteOffset: r.Start.Offset, ByteLength: r.End.Offset - r.Start.Offset,
	}
}

// artifact returns the location of a range's origin: a relative path
// against %SRCROOT%, a file URI for an absolute path, and the escaped
// origin name for standard input and command-line arguments.
func artifact(r diag.Range) sarifArtifactLocation {
	switch {
	case r.Kind == diag.OriginStdin || r.Kind == diag.OriginArg:
		return sarifArtifactLocation{URI: url.PathEscape(r.Origin)}
	case filepath.IsAbs(r.Origin):
		return sarifArtifactLocation{URI: (&url.URL{Scheme: "file", Path: filepath.ToSlash(r.Origin)}).String()}
	}
	return sarifArtifactLocation{URI: (&url.URL{Path: filepath.ToSlash(r.Origin)}).EscapedPath(), URIBaseID: "%SRCROOT%"}
}

// sarifFixOf converts a suggested fix.
func sarifFixOf(f diag.Fix) sarifFix {
	fix := sarifFix{Description: sarifMessage{Text: f.Message}}
	byOrigin := map[string]int{}
	for _, e := range f.Edits {
		i, ok := byOrigin[e.Range.Origin]
		if !ok {
			i = len(fix.ArtifactChanges)
			byOrigin[e.Range.Origin] = i
			fix.ArtifactChanges = append(fix.ArtifactChanges, sarifArtifactChange{ArtifactLocation: artifact(e.Range)})
		}
		ch := &fix.ArtifactChanges[i]
		ch.Replacements = append(ch.Replacements, sarifReplacement{
			DeletedRegion: region(e.Range), InsertedContent: sarifArtifactContent{Text: e.NewText}})
	}
	return fix
}
