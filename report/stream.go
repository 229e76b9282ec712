package report

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
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
	seen  map[string]int     // fingerprint -> how many results had it
	lines map[lineRef]string // what a fingerprint hashes of a line
}

// lineRef is a line of an origin.
type lineRef struct {
	origin string
	line   int
}

func newResults(rules []lint.Rule, files diag.Files) *results {
	rs := &results{index: map[string]int{}, files: files, seen: map[string]int{}, lines: map[lineRef]string{}}
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
	res.PartialFingerprints = map[string]string{FingerprintKey: fp + ":" + strconv.Itoa(rs.seen[fp])}
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
// the rule, the origin, the text of the range and of its whole line.
func (rs *results) fingerprint(d diag.Diagnostic) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00", d.ID, d.Range.Origin)
	var f *diag.File
	if rs.files != nil {
		f = rs.files.File(d.Range.Origin)
	}
	if f == nil {
		fmt.Fprintf(h, "%s\x00", d.Summary)
		return hex.EncodeToString(h.Sum(nil))[:32]
	}
	s, e := d.Range.Start.Offset, d.Range.End.Offset
	if 0 <= s && s <= e && e <= len(f.Content) {
		fmt.Fprintf(h, "%s\x00", f.Content[s:e])
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
	fmt.Fprintf(h, "%s\x00", line)
	return hex.EncodeToString(h.Sum(nil))[:32]
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
	for _, d := range ds {
		s.Elem(3, rs.result(d))
	}
	s.Close(3, ']')
	s.Raw(tail)
	return s.Flush()
}
