// Package genfile is the one way cwlbuild writes and reads the files it
// generates inside a package (skaffold-auto.yaml, derived Dockerfiles, a
// test's params and logs):
// every file of a package is hostile, so a symlink committed at a generated
// path, or at a directory on the way to it, must not make generate write
// outside the package (a shell rc file) or make --check print another
// file's content (/proc/self/environ) in its diff. Both refuse any symlink
// between the root and the file and anything but a regular file there, and
// open with O_NOFOLLOW.
package genfile

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/eoap/cwlbuild/internal/atomicfile"
)

// MaxSize bounds what Read reads: a generated file of 10000 tools is a few
// MB.
const MaxSize = 64 << 20

// Check refuses path unless it lies under root (lexically) with no symlink
// on the way, and is a single-linked regular file or does not exist yet.
// Root itself is trusted: it is the machine's path to the package.
func Check(root, path string) error {
	return check(root, path, false)
}

// CheckDir is Check for a directory a command writes into (a test's
// volume, its outputs): it may be root itself, and must be a directory.
func CheckDir(root, dir string) error {
	if filepath.Clean(root) == filepath.Clean(dir) {
		return nil
	}
	return check(root, dir, true)
}

func check(root, path string, dir bool) error {
	rel, err := filepath.Rel(root, path)
	if err != nil || !filepath.IsLocal(rel) {
		return fmt.Errorf("%s: outside %s", path, root)
	}
	path = filepath.Join(root, rel)
	at := root
	for _, part := range strings.Split(rel, string(filepath.Separator)) {
		at = filepath.Join(at, part)
		st, err := os.Lstat(at)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		switch {
		case st.Mode()&fs.ModeSymlink != 0:
			return fmt.Errorf("%s is a symlink: cwlbuild never writes or reads a generated file through a link (it could point anywhere); remove it", at)
		case (at != path || dir) && !st.IsDir():
			return fmt.Errorf("%s is not a directory", at)
		case dir:
		case at == path && !st.Mode().IsRegular():
			return fmt.Errorf("%s is not a regular file", at)
		case at == path:
			if sys, ok := st.Sys().(*syscall.Stat_t); ok && sys.Nlink > 1 {
				return fmt.Errorf("%s has %d hard links: another name of it may lie outside the package; remove it", at, sys.Nlink)
			}
		}
	}
	return nil
}

// Read returns a generated file's content under Check's rule; a file that
// does not exist is fs.ErrNotExist.
func Read(root, path string) ([]byte, error) {
	if err := Check(root, path); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err == nil && len(data) > MaxSize {
		err = fmt.Errorf("%s: larger than %d MB", path, MaxSize>>20)
	}
	return data, err
}

// File is one generated file: where it goes, relative to which trusted
// root, and its content. Ours, when set, tells whether an existing file's
// content is generate's own; a file it refuses is the user's and is never
// overwritten.
type File struct {
	Root, Path string
	Data       []byte
	Ours       func(old []byte) bool
}

// WriteAll writes every file, all or none (atomicfile.WriteAll), after
// checking each under Check's rule and Ours; directories on the way are
// created.
func WriteAll(ctx context.Context, files []File) error {
	paths := make([]string, len(files))
	contents := make([][]byte, len(files))
	for i, f := range files {
		if err := Check(f.Root, f.Path); err != nil {
			return err
		}
		if f.Ours != nil { // only then is the old content needed
			old, err := Read(f.Root, f.Path)
			switch {
			case errors.Is(err, fs.ErrNotExist):
			case err != nil:
				return err
			case !f.Ours(old):
				return Foreign(f.Path)
			}
		}
		paths[i], contents[i] = f.Path, f.Data
	}
	for _, f := range files {
		if err := MkdirAll(f.Root, filepath.Dir(f.Path)); err != nil {
			return err
		}
		// The directories followed nothing the check did not see, unless
		// the tree changed under us: check again before writing.
		if err := Check(f.Root, f.Path); err != nil {
			return err
		}
	}
	return atomicfile.WriteAll(ctx, paths, contents, 0o644, "")
}

// Foreign is the error for a file at a generated path that generate did not
// write: it is the user's, and stays.
func Foreign(path string) error {
	return fmt.Errorf("%s exists and was not written by cwlbuild generate (it lacks generate's note): generate will not replace it; move it away", path)
}

// Create opens a file for writing, truncated, under Check's rule and with
// O_NOFOLLOW: for logs a command writes as it runs.
func Create(root, path string) (*os.File, error) {
	if err := Check(root, path); err != nil {
		return nil, err
	}
	return os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|syscall.O_NOFOLLOW, 0o644)
}

// MkdirAll creates dir and its parents under CheckDir's rule, checked
// before and after.
func MkdirAll(root, dir string) error {
	if err := CheckDir(root, dir); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return CheckDir(root, dir)
}
