package lsp

import (
	"io"
	"log"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestResolveWithin(t *testing.T) {
	abs := filepath.Join(t.TempDir(), "max.flags")
	tests := []struct {
		entry, root, want string
	}{
		{"max.flags", "/w", filepath.Join("/w", "max.flags")},
		{"org/max.flags", "/w", filepath.Join("/w", "org", "max.flags")},
		{"../max.flags", "/w/app", filepath.Join("/w", "max.flags")},
		{abs, "/w", abs},
		{"max.flags", "", "max.flags"}, // no root: the working directory
	}
	for _, tt := range tests {
		fs := resolveWithin([]string{tt.entry}, tt.root)
		if len(fs) != 1 || fs[0].path != tt.want || fs[0].name != tt.entry {
			t.Errorf("resolveWithin(%q, %q) = %+v, want path %q", tt.entry, tt.root, fs, tt.want)
		}
	}
}

// TestRefreshMaximum checks when the within setting's maximum is read
// again: a file touched without a change keeps the Maximum (and so the
// analyses made with it), a change of content or size makes a new one, a
// file that goes away or gets errors makes a problem, and a file that
// comes back clears it.
func TestRefreshMaximum(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "max.flags")
	write := func(content string, age time.Duration) {
		t.Helper()
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		// Distinct modification times, whatever the file system's clock.
		when := time.Now().Add(-age)
		if err := os.Chtimes(path, when, when); err != nil {
			t.Fatal(err)
		}
	}
	s := &server{log: log.New(io.Discard, "", 0), docs: map[string]*document{}, root: dir,
		cfg: config{within: []string{"max.flags"}}}

	write("--allow-outbound=tcp://10.1.0.0/16:5432\n", time.Hour)
	s.refreshMaximum(false)
	first := s.max.max
	if first == nil || s.max.problem != "" || first.Name != "max.flags" {
		t.Fatalf("first reading: %+v", s.max)
	}
	// Nothing changed: not read again.
	s.refreshMaximum(false)
	if s.max.max != first {
		t.Error("read again though nothing changed")
	}
	// Touched, same content: the same Maximum, at a change or a save.
	write("--allow-outbound=tcp://10.1.0.0/16:5432\n", 30*time.Minute)
	s.refreshMaximum(false)
	s.refreshMaximum(true)
	if s.max.max != first {
		t.Error("a touched maximum was taken for a new one")
	}
	// Changed: a new Maximum, seen at the next change.
	write("--allow-outbound=tcp://10.2.0.0/16:5432\n", 20*time.Minute)
	s.refreshMaximum(false)
	second := s.max.max
	if second == nil || second == first {
		t.Fatalf("a changed maximum not read again: %+v", s.max)
	}
	// Changed in content alone (same size, same time): seen at a save.
	info, _ := os.Stat(path)
	os.WriteFile(path, []byte("--allow-outbound=tcp://10.3.0.0/16:5432\n"), 0o644)
	os.Chtimes(path, info.ModTime(), info.ModTime())
	s.refreshMaximum(false)
	if s.max.max != second {
		t.Error("read again though size and time are the same")
	}
	s.refreshMaximum(true)
	if s.max.max == second || s.max.max == nil {
		t.Errorf("a save did not read the changed content: %+v", s.max)
	}
	// Errors, then gone, then back.
	write("--allow-outbound=tcp://example.com:70000\n", 10*time.Minute)
	s.refreshMaximum(false)
	if s.max.max != nil || !strings.Contains(s.max.problem, "max.flags:1:36: error[CS002]") {
		t.Errorf("a maximum with errors: %+v", s.max)
	}
	os.Remove(path)
	s.refreshMaximum(false)
	if s.max.max != nil || !strings.Contains(s.max.problem, "cannot read "+path+": no such file or directory") {
		t.Errorf("a missing maximum: %+v", s.max)
	}
	write("--allow-outbound=tcp://10.1.0.0/16:5432\n", 0)
	s.refreshMaximum(false)
	if s.max.max == nil || s.max.problem != "" {
		t.Errorf("a maximum back: %+v", s.max)
	}
	// A directory (or a pipe, a device) is not read.
	s.cfg.within = []string{"."}
	s.refreshMaximum(false)
	if s.max.max != nil || !strings.Contains(s.max.problem, "not a regular file") {
		t.Errorf("a directory as the maximum: %+v", s.max)
	}
	// The setting emptied: no maximum, no problem.
	s.cfg.within = nil
	s.refreshMaximum(true)
	if s.max.max != nil || s.max.problem != "" {
		t.Errorf("no within setting: %+v", s.max)
	}
}
