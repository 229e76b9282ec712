// Package inplace replaces the content of files atomically: the one write
// path of capspec fmt -w, fmt --shell -w, lint --fix -w and proxy --learn.
//
// A file is rewritten through github.com/google/renameio/v2: the new
// content goes to a temporary file in the file's directory, which gets the
// file's mode and owner, is synced and renamed over the file, so that the
// file is never half-written. A symbolic link is followed: its target is
// rewritten and the link stays a link. A file that is read-only (no write
// permission bit at all), that this process cannot open for writing, or
// whose owner the rewritten file could not keep, is refused, and nothing
// is written.
package inplace

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/google/renameio/v2"
)

// Check returns the file that rewriting path would write (path itself, or
// the target of a symbolic link), or why path cannot be rewritten. Callers
// that rewrite several files check them all before writing any.
func Check(path string) (string, error) {
	target, err := filepath.EvalSymlinks(path)
	if err != nil {
		return "", fmt.Errorf("cannot rewrite %s: %w", path, pathError(err))
	}
	info, err := os.Stat(target)
	if err != nil {
		return "", fmt.Errorf("cannot rewrite %s: %w", path, pathError(err))
	}
	if !info.Mode().IsRegular() {
		return "", fmt.Errorf("cannot rewrite %s: not a regular file", path)
	}
	if info.Mode().Perm()&0o222 == 0 {
		return "", fmt.Errorf("cannot rewrite %s: the file is read-only (mode %v); make it writable to rewrite it", path, info.Mode().Perm())
	}
	f, err := os.OpenFile(target, os.O_WRONLY, 0)
	if err != nil {
		return "", fmt.Errorf("cannot rewrite %s: %w", path, pathError(err))
	}
	f.Close()
	return target, nil
}

// Rewrite replaces the content of the existing file path (or of the target of
// the symbolic link path) with content, keeping its mode and owner.
func Rewrite(path string, content []byte) (err error) {
	target, err := Check(path)
	if err != nil {
		return err
	}
	info, err := os.Stat(target)
	if err != nil {
		return fmt.Errorf("cannot rewrite %s: %w", path, pathError(err))
	}
	pf, err := renameio.NewPendingFile(target, renameio.WithTempDir(filepath.Dir(target)), renameio.WithExistingPermissions())
	if err != nil {
		return fmt.Errorf("cannot rewrite %s: %w", path, pathError(err))
	}
	defer pf.Cleanup() // removes the temporary file unless it replaced the target
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		if err := keepOwner(pf.File, st); err != nil {
			return fmt.Errorf("cannot rewrite %s: the rewritten file could not keep its owner (uid %d, gid %d): %w", path, st.Uid, st.Gid, pathError(err))
		}
	}
	if _, err := pf.Write(content); err != nil {
		return fmt.Errorf("cannot rewrite %s: %w", path, pathError(err))
	}
	if err := pf.CloseAtomicallyReplace(); err != nil {
		return fmt.Errorf("cannot rewrite %s: %w", path, pathError(err))
	}
	return nil
}

// Write writes content to path atomically: an existing file (or the target
// of a symbolic link) is rewritten as Rewrite does, keeping its mode and
// owner and refusing a read-only file; a missing file is created with the
// permissions perm (less the umask).
func Write(path string, content []byte, perm os.FileMode) error {
	if _, err := os.Lstat(path); err == nil || !errors.Is(err, os.ErrNotExist) {
		return Rewrite(path, content)
	}
	if err := renameio.WriteFile(path, content, perm); err != nil {
		return fmt.Errorf("cannot write %s: %w", path, pathError(err))
	}
	return nil
}

// keepOwner gives the temporary file f the owner and group of the file
// described by st, when they differ from f's (its mode was set when it was
// made; a chown never widens it).
func keepOwner(f *os.File, st *syscall.Stat_t) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if cur, ok := fi.Sys().(*syscall.Stat_t); ok && cur.Uid == st.Uid && cur.Gid == st.Gid {
		return nil
	}
	return f.Chown(int(st.Uid), int(st.Gid))
}

// pathError drops the operation and path an *os.PathError repeats.
func pathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
