package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRewriteScripts(t *testing.T) {
	dir := t.TempDir()
	script := "# start\nwasmtime run \\\n  --allow-resolve=B.example \\\n  --allow-resolve=A.example app.wasm\nspin up --allow-inbound='tcp://*:80' x\n"
	path := filepath.Join(dir, "run.sh")
	if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	a := &app{env: Env{Args: []string{"capspec"}}, shell: []string{path}}
	set, err := a.load(nil)
	if err != nil {
		t.Fatal(err)
	}
	// Lowercase every flag and reverse their order.
	got, err := rewriteScripts(set, func(it *loaded) ([]string, error) {
		var fs []string
		for i := len(it.input.Flags) - 1; i >= 0; i-- {
			fs = append(fs, strings.ToLower(it.input.Flags[i].Text))
		}
		return fs, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "# start\nwasmtime run \\\n  --allow-resolve=a.example \\\n  --allow-resolve=b.example app.wasm\nspin up --allow-inbound='tcp://*:80' x\n"
	if len(got) != 1 || got[path] != want {
		t.Errorf("got %q, want %q", got[path], want)
	}
}
