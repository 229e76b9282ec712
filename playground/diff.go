package playground

// This file is the playground's diff panel: what `capspec diff old.flags
// policy.flags` prints (SPEC §8.1), computed by package diff, the one home
// of "what a change newly allows".

import (
	"strings"

	"github.com/capspec/capspec/diff"
)

// DiffResult is what the policy (NEW) allows that the old policy (OLD) does
// not, and the reverse: the regions, changes and summary of `capspec diff
// --format json` (Added, Removed, Changed, Equivalent, Summary), and its
// text output.
type DiffResult struct {
	// Unavailable says why there is no diff: either policy has errors.
	Unavailable string `json:"unavailable,omitempty"`
	diff.JSON
	// Text is the diff as `capspec diff` prints it.
	Text string `json:"text"`
}

// Diff compares two policies as flags files: what newText allows that
// oldText does not, and the reverse. As `capspec diff`, it decides listens
// with no interface table, so that the result does not depend on a
// machine.
func Diff(oldText, newText string) DiffResult {
	return new(Session).Diff(oldText, newText)
}

// unavailableDiff is no diff, and why.
func unavailableDiff(why string) DiffResult {
	return DiffResult{Unavailable: why, JSON: diff.JSON{Added: []diff.JSONEntry{}, Removed: []diff.JSONEntry{}, Changed: []diff.JSONEntry{}}}
}

// diffDocuments is the diff of two read documents, or why there is none.
func diffDocuments(older, newer *document) DiffResult {
	for _, d := range []*document{older, newer} {
		if why := d.refusal(d.errors, "the diff"); why != "" {
			return unavailableDiff(why)
		}
	}
	res, err := diff.Compare(older.policy, newer.policy)
	if err != nil {
		return unavailableDiff(err.Error())
	}
	var b strings.Builder
	if err := res.WriteText(&b, nil); err != nil {
		return unavailableDiff(err.Error())
	}
	return DiffResult{JSON: res.JSON(), Text: b.String()}
}
