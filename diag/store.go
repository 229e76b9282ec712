package diag

import "hash/maphash"

// Store collects diagnostics compactly, for a pass that may find one per
// flag of a file of a hundred thousand flags: a Diagnostic is 160 bytes,
// most of them its Range, which a file recomputes from two offsets (and a
// fix's edit has a Range of its own). A diagnostic whose range, and the
// ranges of its fixes' edits, the store's files give back from their
// offsets (File.Range), and that counts no omitted findings, is kept as
// offsets and texts (80 bytes, and 32 per edit); any other is kept whole.
// Diagnostics turns them back, in the order they were added, exactly as
// they were.
//
// The compact ones are kept in chunks of a fixed size, never copied to
// grow, and their texts are shared with an equal text seen recently (a
// rule that finds the same thing in every flag formats the same summary
// each time: only one copy stays alive).
type Store struct {
	files  []*File
	byName map[string]int // index in files of each origin (the first of a name)
	chunks [][]stored
	n      int
	whole  []Diagnostic // the diagnostics kept whole, by stored.whole
	fixes  []storedFix
	edits  []storedEdit
	seed   maphash.Seed
	recent [storeRecent]string // texts seen recently, by hash
}

// storeChunk is the number of diagnostics of a chunk of a Store, and
// storeRecent the number of texts it remembers to share.
const (
	storeChunk  = 1024
	storeRecent = 256
)

// stored is a diagnostic in a Store: its texts and, when file >= 0, the
// offsets of its range in files[file] and its fixes, fixes[fix:fix+nfix];
// when file < 0, whole[whole].
type stored struct {
	id, summary, detail string
	start, end          int32
	file, whole         int32
	fix, nfix           int32
	severity            Severity
}

// storedFix is a fix of a stored diagnostic: its message and its edits,
// edits[edit:edit+nedit].
type storedFix struct {
	message     string
	edit, nedit int32
}

// storedEdit is an edit of a stored fix: the offsets of its range in
// files[file], and its new text.
type storedEdit struct {
	newText          string
	start, end, file int32
}

// NewStore returns an empty store of diagnostics in the given files.
func NewStore(files []*File) *Store {
	s := &Store{files: files, byName: make(map[string]int, len(files)), seed: maphash.MakeSeed()}
	for i, f := range files {
		if _, ok := s.byName[f.Name]; !ok {
			s.byName[f.Name] = i
		}
	}
	return s
}

// Add adds a diagnostic.
func (s *Store) Add(d Diagnostic) {
	it := stored{file: -1, whole: int32(len(s.whole))}
	if fi := s.compactFile(d); fi >= 0 {
		it = stored{id: d.ID, summary: s.share(d.Summary), detail: s.share(d.Detail), severity: d.Severity,
			start: int32(d.Range.Start.Offset), end: int32(d.Range.End.Offset), file: int32(fi),
			fix: int32(len(s.fixes)), nfix: int32(len(d.Fixes))}
		for _, f := range d.Fixes {
			s.fixes = append(s.fixes, storedFix{message: s.share(f.Message), edit: int32(len(s.edits)), nedit: int32(len(f.Edits))})
			for _, e := range f.Edits {
				s.edits = append(s.edits, storedEdit{newText: s.share(e.NewText),
					start: int32(e.Range.Start.Offset), end: int32(e.Range.End.Offset), file: int32(s.fileOf(e.Range))})
			}
		}
	} else {
		s.whole = append(s.whole, d)
	}
	if s.n%storeChunk == 0 {
		s.chunks = append(s.chunks, make([]stored, 0, storeChunk))
	}
	c := &s.chunks[len(s.chunks)-1]
	*c = append(*c, it)
	s.n++
}

// share returns an equal text seen recently, else t (remembered).
func (s *Store) share(t string) string {
	if t == "" {
		return t
	}
	slot := &s.recent[maphash.String(s.seed, t)%storeRecent]
	if *slot == t {
		return *slot
	}
	*slot = t
	return t
}

// AddAll adds diagnostics in order.
func (s *Store) AddAll(ds []Diagnostic) {
	for _, d := range ds {
		s.Add(d)
	}
}

// Len returns the number of diagnostics added.
func (s *Store) Len() int { return s.n }

// compactFile returns the index of the file that gives back the range of
// d and of each of its fixes' edits from their offsets, or -1 when d must
// be kept whole.
func (s *Store) compactFile(d Diagnostic) int {
	if d.Omitted != 0 || d.Fixes != nil && len(d.Fixes) == 0 {
		return -1 // (an empty slice of fixes is kept as it is)
	}
	fi := s.fileOf(d.Range)
	if fi < 0 {
		return -1
	}
	for _, f := range d.Fixes {
		if f.Edits == nil {
			return -1 // (kept whole: made whole, it would get an empty slice)
		}
		for _, e := range f.Edits {
			if s.fileOf(e.Range) < 0 {
				return -1
			}
		}
	}
	return fi
}

// fileOf returns the index of the file that gives back r from its
// offsets, or -1.
func (s *Store) fileOf(r Range) int {
	if r.Origin == "" || r.Start.Offset < 0 || r.End.Offset > 1<<31-1 || r.End.Offset < r.Start.Offset {
		return -1
	}
	// (By name, not by a scan of the files: the command line is a file per
	// argument, and may hold tens of thousands of flags.)
	i, ok := s.byName[r.Origin]
	if !ok {
		return -1
	}
	if f := s.files[i]; f.Kind != r.Kind || r.End.Offset > len(f.Content) || f.Range(r.Start.Offset, r.End.Offset) != r {
		return -1
	}
	return i
}

// Diagnostics returns the diagnostics added, in order (nil for none), and
// empties the store.
func (s *Store) Diagnostics() []Diagnostic {
	if s.n == 0 {
		return nil
	}
	return s.AppendTo(make([]Diagnostic, 0, s.n))
}

// AppendTo appends the diagnostics added to ds, in order, empties the
// store and returns the extended slice.
func (s *Store) AppendTo(ds []Diagnostic) []Diagnostic {
	for ci, c := range s.chunks {
		for _, it := range c {
			if it.file < 0 {
				ds = append(ds, s.whole[it.whole])
				continue
			}
			d := Diagnostic{ID: it.id, Severity: it.severity, Summary: it.summary, Detail: it.detail,
				Range: s.files[it.file].Range(int(it.start), int(it.end))}
			if it.nfix > 0 {
				d.Fixes = make([]Fix, it.nfix)
				for i, f := range s.fixes[it.fix : it.fix+it.nfix] {
					d.Fixes[i] = Fix{Message: f.message, Edits: make([]TextEdit, f.nedit)}
					for j, e := range s.edits[f.edit : f.edit+f.nedit] {
						d.Fixes[i].Edits[j] = TextEdit{Range: s.files[e.file].Range(int(e.start), int(e.end)), NewText: e.newText}
					}
				}
			}
			ds = append(ds, d)
		}
		s.chunks[ci] = nil // (freed as it is read)
	}
	s.chunks, s.whole, s.fixes, s.edits, s.n = nil, nil, nil, nil, 0
	s.recent = [storeRecent]string{}
	return ds
}
