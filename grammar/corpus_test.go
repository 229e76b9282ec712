package grammar

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// fuzzCorpus reads the string inputs of a fuzz corpus directory.
func fuzzCorpus(t testing.TB, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range files {
		for _, line := range fileLines(t, f) {
			if v, ok := strings.CutPrefix(line, "string("); ok {
				s, err := strconv.Unquote(strings.TrimSuffix(v, ")"))
				if err != nil {
					t.Fatalf("%s: %v", f, err)
				}
				out = append(out, s)
			}
		}
	}
	return out
}

// goldenFlagsFiles lists the flags files of the golden corpora.
func goldenFlagsFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("../testdata/grammar/*.flags")
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus: %v", err)
	}
	return files
}

// linesOf returns the lines of a file, and every blank-separated word of
// them.
func linesOf(t *testing.T, path string) []string {
	t.Helper()
	var out []string
	for _, line := range fileLines(t, path) {
		out = append(out, line)
		out = append(out, strings.Fields(line)...)
	}
	return out
}

// requestFileLines returns the lines of the request files of testdata/eval.
func requestFileLines(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob("../testdata/eval/*.requests")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range files {
		out = append(out, fileLines(t, f)...)
	}
	return out
}

// fileLines returns the lines of a file.
func fileLines(t testing.TB, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(string(b), "\n")
}
