package report

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/internal/jsonstream"
	"github.com/capspec/capspec/lint"
)

// results makes the SARIF results of one run, one diagnostic at a time.
type results struct {
	index map[string]int // rule ID -> index in tool.driver.rules
	files diag.Files
	seen  map[[16]byte]int   // fingerprint (its digest's first 16 bytes) -> how many results had it
	lines map[lineRef]string // what a fingerprint hashes of a line
	buf   []byte             // what a fingerprint hashes, reused from result to result
}

// lineRef is a line of an origin.
type lineRef struct {
	origin string
	line   int
}

func newResults(rules []lint.Rule, files diag.Files) *results {
	rs := &results{index: map[string]int{}, files: files, seen: map[[16]byte]int{}, lines: map[lineRef]string{}}
	for i, r := range rules {
		rs.index[r.ID] = i
	}
	return rs
}

// result returns the SARIF result of a diagnostic: its rule, level,
// message, physical location, partial fingerprint and fixes.
func (rs *results) result(d diag.Diagnostic) sarifResult {
	res := sarifResult{RuleID: d.ID, Level: Level(d.Severity)}
	if i, ok := rs.index[d.ID]; ok {
		res.RuleIndex = &i
	}
	msg := d.Summary
	if d.Detail != "" {
		msg += "\n" + d.Detail
	}
	res.Message = sarifMessage{Text: msg}
	res.Locations = []sarifLocation{{PhysicalLocation: sarifPhysicalLocation{
		ArtifactLocation: artifact(d.Range), Region: region(d.Range)}}}
	fp := rs.fingerprint(d)
	rs.seen[fp]++
	var hexFP [32]byte
	hex.Encode(hexFP[:], fp[:])
	res.PartialFingerprints = map[string]string{FingerprintKey: string(hexFP[:]) + ":" + strconv.Itoa(rs.seen[fp])}
	for _, f := range d.Fixes {
		res.Fixes = append(res.Fixes, sarifFixOf(f))
	}
	return res
}

// maxFingerprintLine is the longest line a fingerprint hashes as text; a
// longer line is hashed once, and its fingerprints hash that digest, so
// that the fingerprints of many findings on one long line cost time
// linear in the line, not in the line times the findings.
const maxFingerprintLine = 4096

// fingerprint identifies a finding independently of the line it is on:
// the rule, the origin, the text of the range and of its whole line; its
// hex form is the first 32 digits of the SHA-256 of those, each followed
// by a zero byte (the first 16 bytes of the digest).
func (rs *results) fingerprint(d diag.Diagnostic) [16]byte {
	b := rs.buf[:0]
	field := func(s string) {
		b = append(append(b, s...), 0)
	}
	field(d.ID)
	field(d.Range.Origin)
	var f *diag.File
	if rs.files != nil {
		f = rs.files.File(d.Range.Origin)
	}
	if f == nil {
		field(d.Summary)
	} else {
		s, e := d.Range.Start.Offset, d.Range.End.Offset
		if 0 <= s && s <= e && e <= len(f.Content) {
			field(f.Content[s:e])
		}
		ref := lineRef{d.Range.Origin, d.Range.Start.Line}
		line, ok := rs.lines[ref]
		if !ok {
			line = strings.TrimSpace(f.Line(d.Range.Start.Line))
			if len(line) > maxFingerprintLine {
				sum := sha256.Sum256([]byte(line))
				line = "sha256:" + hex.EncodeToString(sum[:])
			}
			rs.lines[ref] = line
		}
		field(line)
	}
	rs.buf = b
	sum := sha256.Sum256(b)
	return [16]byte(sum[:16])
}

// resultsKey is how the indented log of a run without results spells its
// empty results array: results are written in its place.
const resultsKey = "\n      \"results\": []"

// writeSARIF writes the log that buildSARIF builds, byte for byte as
// WriteSARIF's indented encoding of it (HTML not escaped) and a line
// break, but one result at a time: the log of the run without results is
// encoded first and the results are written in the place of its empty
// array, so that memory does not grow with the number of results beyond
// the diagnostics themselves.
func writeSARIF(w io.Writer, tool Tool, rules []lint.Rule, ds []diag.Diagnostic, files diag.Files) error {
	var envelope strings.Builder
	enc := json.NewEncoder(&envelope)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(buildSARIF(tool, rules, nil, files)); err != nil {
		return err
	}
	head, tail, ok := strings.Cut(envelope.String(), resultsKey)
	if !ok || strings.Contains(tail, resultsKey) {
		return fmt.Errorf("writing SARIF: the log of a run has no single %q", strings.TrimSpace(resultsKey))
	}
	s := jsonstream.New(w, false)
	s.Raw(head + strings.TrimSuffix(resultsKey, "[]"))
	s.Open('[')
	rs := newResults(rules, files)
	var b jsonstream.Builder
	for _, d := range ds {
		b.Reset(4)
		buildResult(&b, rs.result(d))
		s.Next(3)
		s.RawBytes(b.B)
	}
	s.Close(3, ']')
	s.Raw(tail)
	return s.Flush()
}

// buildResult writes a SARIF result without reflection, byte for byte as
// encoding/json writes it (TestBuildResult): a run may report a million.
func buildResult(b *jsonstream.Builder, r sarifResult) {
	b.Open('{')
	b.KeyString("ruleId", r.RuleID)
	if r.RuleIndex != nil {
		b.KeyInts([]string{"ruleIndex"}, *r.RuleIndex)
	}
	b.KeyString("level", r.Level)
	b.Key("message")
	buildMessage(b, r.Message)
	b.Key("locations")
	b.List(len(r.Locations), r.Locations == nil, func(i int) {
		l := r.Locations[i].PhysicalLocation
		b.Open('{')
		b.Key("physicalLocation")
		b.Open('{')
		buildArtifact(b, "artifactLocation", l.ArtifactLocation)
		buildRegion(b, "region", l.Region)
		b.Close('}')
		b.Close('}')
	})
	b.Key("partialFingerprints")
	if r.PartialFingerprints == nil {
		b.Null()
	} else {
		b.Open('{')
		for _, k := range slices.Sorted(maps.Keys(r.PartialFingerprints)) {
			b.KeyString(k, r.PartialFingerprints[k])
		}
		b.Close('}')
	}
	if len(r.Fixes) > 0 {
		b.Key("fixes")
		b.List(len(r.Fixes), false, func(i int) { buildFix(b, r.Fixes[i]) })
	}
	b.Close('}')
}

// buildMessage writes a SARIF message.
func buildMessage(b *jsonstream.Builder, m sarifMessage) {
	b.Open('{')
	b.KeyString("text", m.Text)
	if m.Markdown != "" {
		b.KeyString("markdown", m.Markdown)
	}
	b.Close('}')
}

// buildArtifact writes a member that is a SARIF artifact location.
func buildArtifact(b *jsonstream.Builder, key string, a sarifArtifactLocation) {
	b.Key(key)
	b.Open('{')
	b.KeyString("uri", a.URI)
	if a.URIBaseID != "" {
		b.KeyString("uriBaseId", a.URIBaseID)
	}
	b.Close('}')
}

// regionKeys are the keys of a SARIF region, in order.
var regionKeys = []string{"startLine", "startColumn", "endLine", "endColumn", "byteOffset", "byteLength"}

// buildRegion writes a member that is a SARIF region.
func buildRegion(b *jsonstream.Builder, key string, r sarifRegion) {
	b.Key(key)
	b.Open('{')
	b.KeyInts(regionKeys, r.StartLine, r.StartColumn, r.EndLine, r.EndColumn, r.ByteOffset, r.ByteLength)
	b.Close('}')
}

// buildFix writes a SARIF fix.
func buildFix(b *jsonstream.Builder, f sarifFix) {
	b.Open('{')
	b.Key("description")
	buildMessage(b, f.Description)
	b.Key("artifactChanges")
	b.List(len(f.ArtifactChanges), f.ArtifactChanges == nil, func(i int) {
		ch := f.ArtifactChanges[i]
		b.Open('{')
		buildArtifact(b, "artifactLocation", ch.ArtifactLocation)
		b.Key("replacements")
		b.List(len(ch.Replacements), ch.Replacements == nil, func(j int) {
			r := ch.Replacements[j]
			b.Open('{')
			buildRegion(b, "deletedRegion", r.DeletedRegion)
			b.Key("insertedContent")
			b.Open('{')
			b.KeyString("text", r.InsertedContent.Text)
			b.Close('}')
			b.Close('}')
		})
		b.Close('}')
	})
	b.Close('}')
}
