package diag

import (
	"fmt"
	"sort"
	"strings"
)

// ApplyEdits applies edits to src, the content of one origin. Edit ranges
// are byte offsets into src (Range.Start.Offset, Range.End.Offset); their
// origin is not checked. Edits must not overlap: two edits overlap when
// their ranges share a byte, or when both insert at the same offset. It
// returns an error, and src unchanged, for an edit outside src or for
// overlapping edits.
func ApplyEdits(src string, edits []TextEdit) (string, error) {
	if len(edits) == 0 {
		return src, nil
	}
	sorted := append([]TextEdit(nil), edits...)
	sort.SliceStable(sorted, func(i, j int) bool { return editLess(sorted[i], sorted[j]) })
	var b strings.Builder
	b.Grow(len(src))
	last := 0
	for i, e := range sorted {
		s, t := e.Range.Start.Offset, e.Range.End.Offset
		if s < 0 || t < s || t > len(src) {
			return src, fmt.Errorf("edit [%d,%d) lies outside the text (%d bytes)", s, t, len(src))
		}
		if i > 0 && editsOverlap(sorted[i-1], e) {
			return src, fmt.Errorf("edits [%d,%d) and [%d,%d) overlap", sorted[i-1].Range.Start.Offset, sorted[i-1].Range.End.Offset, s, t)
		}
		b.WriteString(src[last:s])
		b.WriteString(e.NewText)
		last = t
	}
	b.WriteString(src[last:])
	return b.String(), nil
}

// editLess orders edits by start, insertions before replacements at the
// same offset.
func editLess(a, b TextEdit) bool {
	if a.Range.Start.Offset != b.Range.Start.Offset {
		return a.Range.Start.Offset < b.Range.Start.Offset
	}
	return a.Range.End.Offset < b.Range.End.Offset
}

// editsOverlap reports whether two edits of one origin conflict.
func editsOverlap(a, b TextEdit) bool {
	as, ae := a.Range.Start.Offset, a.Range.End.Offset
	bs, be := b.Range.Start.Offset, b.Range.End.Offset
	if as == ae && bs == be {
		return as == bs
	}
	return as < be && bs < ae
}

// SelectFixes picks, for every diagnostic in order, its first fix, unless
// one of that fix's edits overlaps an edit already picked. It returns the
// picked edits grouped by origin, and how many fixes were picked.
func SelectFixes(ds []Diagnostic) (map[string][]TextEdit, int) {
	picked := map[string][]TextEdit{} // per origin, sorted by editLess
	n := 0
	for _, d := range ds {
		if len(d.Fixes) == 0 || len(d.Fixes[0].Edits) == 0 {
			continue
		}
		f := d.Fixes[0]
		if conflicts(picked, f.Edits) {
			continue
		}
		for _, e := range f.Edits {
			es := picked[e.Range.Origin]
			i := sort.Search(len(es), func(i int) bool { return editLess(e, es[i]) })
			es = append(es, TextEdit{})
			copy(es[i+1:], es[i:])
			es[i] = e
			picked[e.Range.Origin] = es
		}
		n++
	}
	return picked, n
}

// conflicts reports whether any of edits overlaps a picked edit or another
// of edits. Picked edits do not overlap one another, so only the neighbours
// of an edit's place in the sorted order need a look.
func conflicts(picked map[string][]TextEdit, edits []TextEdit) bool {
	for i, e := range edits {
		es := picked[e.Range.Origin]
		k := sort.Search(len(es), func(i int) bool { return es[i].Range.End.Offset >= e.Range.Start.Offset })
		for ; k < len(es) && es[k].Range.Start.Offset <= e.Range.End.Offset; k++ {
			if editsOverlap(es[k], e) {
				return true
			}
		}
		for _, o := range edits[:i] {
			if o.Range.Origin == e.Range.Origin && editsOverlap(o, e) {
				return true
			}
		}
	}
	return false
}
