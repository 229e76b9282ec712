package inplace

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// write makes a file with content and mode in dir.
func write(t *testing.T, dir, name, content string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil { // past the umask
		t.Fatal(err)
	}
	return p
}

// entries lists a directory, to see that no temporary file is left.
func entries(t *testing.T, dir string) string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return strings.Join(names, " ")
}

func content(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestRewriteKeepsMode(t *testing.T) {
	for _, mode := range []os.FileMode{0o644, 0o600, 0o755, 0o664, 0o200} {
		dir := t.TempDir()
		p := write(t, dir, "p.flags", "old\n", mode)
		if err := Rewrite(p, []byte("new\n")); err != nil {
			t.Fatalf("mode %v: %v", mode, err)
		}
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != mode || !fi.Mode().IsRegular() {
			t.Errorf("mode %v became %v", mode, fi.Mode())
		}
		if mode&0o400 != 0 && content(t, p) != "new\n" {
			t.Errorf("mode %v: content %q", mode, content(t, p))
		}
		if got := entries(t, dir); got != "p.flags" {
			t.Errorf("directory holds %q", got)
		}
	}
}

// TestRewriteSymlink checks that a link's target is rewritten and the link
// stays a link, also through a relative link into another directory.
func TestRewriteSymlink(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "real"), 0o755); err != nil {
		t.Fatal(err)
	}
	target := write(t, filepath.Join(dir, "real"), "p.flags", "old\n", 0o640)
	link := filepath.Join(dir, "link.flags")
	if err := os.Symlink("real/p.flags", link); err != nil {
		t.Fatal(err)
	}
	if err := Rewrite(link, []byte("new\n")); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Lstat(link)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link became %v", fi.Mode())
	}
	if got := content(t, target); got != "new\n" {
		t.Errorf("target holds %q", got)
	}
	if fi, _ := os.Stat(target); fi.Mode().Perm() != 0o640 {
		t.Errorf("target mode %v", fi.Mode())
	}
	if got := entries(t, filepath.Join(dir, "real")); got != "p.flags" {
		t.Errorf("target directory holds %q", got)
	}
}

// TestRefused checks what is refused, and that a refusal writes nothing.
func TestRefused(t *testing.T) {
	dir := t.TempDir()
	ro := write(t, dir, "ro.flags", "old\n", 0o444)
	if err := os.Symlink("ro.flags", filepath.Join(dir, "ro-link.flags")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("missing.flags", filepath.Join(dir, "dangling.flags")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, want string }{
		{ro, "the file is read-only (mode -r--r--r--)"},
		{filepath.Join(dir, "ro-link.flags"), "read-only"},
		{filepath.Join(dir, "dangling.flags"), "no such file or directory"},
		{filepath.Join(dir, "missing.flags"), "no such file or directory"},
		{dir, "not a regular file"},
	} {
		err := Rewrite(tc.path, []byte("new\n"))
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "cannot rewrite "+tc.path+": ") {
			t.Errorf("Rewrite(%s) = %v, want an error with %q", tc.path, err, tc.want)
		}
	}
	if got := content(t, ro); got != "old\n" {
		t.Errorf("read-only file holds %q", got)
	}
	if got := entries(t, dir); got != "dangling.flags ro-link.flags ro.flags" {
		t.Errorf("directory holds %q", got)
	}
}

// TestRewriteKeepsOwner rewrites, as root, a file another user owns.
func TestRewriteKeepsOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("only root can make a file another user owns; run as root to test that the owner is kept")
	}
	dir := t.TempDir()
	p := write(t, dir, "p.flags", "old\n", 0o644)
	if err := os.Chown(p, 4321, 4322); err != nil {
		t.Fatal(err)
	}
	if err := Rewrite(p, []byte("new\n")); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	if st.Uid != 4321 || st.Gid != 4322 || fi.Mode().Perm() != 0o644 || content(t, p) != "new\n" {
		t.Errorf("owner %d:%d mode %v content %q", st.Uid, st.Gid, fi.Mode(), content(t, p))
	}
}

// TestWrite checks that Write creates a missing file with its permissions
// (less the umask) and rewrites an existing one as Rewrite does: mode kept,
// links followed, read-only refused.
func TestWrite(t *testing.T) {
	dir := t.TempDir()
	fresh := filepath.Join(dir, "fresh.flags")
	umask := syscall.Umask(0)
	syscall.Umask(umask)
	if err := Write(fresh, []byte("one\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(fresh); err != nil || fi.Mode().Perm() != 0o644&^os.FileMode(umask) || content(t, fresh) != "one\n" {
		t.Errorf("created: %v, %v, %q", fi, err, content(t, fresh))
	}
	kept := write(t, dir, "kept.flags", "old\n", 0o600)
	if err := Write(kept, []byte("new\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(kept); fi.Mode().Perm() != 0o600 || content(t, kept) != "new\n" {
		t.Errorf("rewritten: mode %v, %q", fi.Mode(), content(t, kept))
	}
	if err := os.Symlink("kept.flags", filepath.Join(dir, "link.flags")); err != nil {
		t.Fatal(err)
	}
	if err := Write(filepath.Join(dir, "link.flags"), []byte("linked\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Lstat(filepath.Join(dir, "link.flags")); fi.Mode()&os.ModeSymlink == 0 || content(t, kept) != "linked\n" {
		t.Errorf("link: %v, target %q", fi.Mode(), content(t, kept))
	}
	ro := write(t, dir, "ro.flags", "old\n", 0o444)
	if err := Write(ro, []byte("new\n"), 0o644); err == nil || !strings.Contains(err.Error(), "read-only") || content(t, ro) != "old\n" {
		t.Errorf("read-only: %v, %q", err, content(t, ro))
	}
	if got := entries(t, dir); got != "fresh.flags kept.flags link.flags ro.flags" {
		t.Errorf("directory holds %q", got)
	}
}
