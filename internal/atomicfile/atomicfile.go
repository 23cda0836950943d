// Package atomicfile replaces files so that a reader, or a crash, sees either
// the whole old content or the whole new content, never a mix: the data goes
// to a temporary file in the same directory, is synced, and is renamed over
// the target. A writer killed before the rename leaves its temporary file;
// the next commit to the same target removes it.
package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Write replaces path with data. An existing file keeps its mode; a new one
// gets perm. A symlink is followed, so the link stays and its target changes.
func Write(path string, data []byte, perm fs.FileMode) error {
	s, err := Stage(path, data, perm)
	if err != nil {
		return err
	}
	return s.Commit()
}

// WriteMode replaces path with data and gives it mode perm whatever mode an
// existing file had (a 0400 file included): for files that must stay
// private, the temporary file is created 0600 and never has wider
// permissions.
func WriteMode(path string, data []byte, perm fs.FileMode) error {
	s, err := stage(path, data, perm, true)
	if err != nil {
		return err
	}
	return s.Commit()
}

// Staged is new content written and synced beside its target but not yet in
// place. Staging every file of a change before committing any of them means
// that the errors a write can meet (a full disk, a read-only directory, a
// directory where the file should be) surface while every target is still
// untouched.
type Staged struct {
	Path string // the target, symlinks resolved
	tmp  string
}

// Stage writes data to a synced temporary file next to path.
func Stage(path string, data []byte, perm fs.FileMode) (*Staged, error) {
	return stage(path, data, perm, false)
}

func stage(path string, data []byte, perm fs.FileMode, force bool) (*Staged, error) {
	if target, err := filepath.EvalSymlinks(path); err == nil {
		path = target
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if st, err := os.Stat(path); err == nil {
		if !st.Mode().IsRegular() {
			return nil, &fs.PathError{Op: "write", Path: path, Err: errors.New("not a regular file")}
		}
		if !force && st.Mode().Perm()&0o222 == 0 {
			// Root could replace it anyway; a file nobody may write was made
			// read-only on purpose, so it is not silently rewritten.
			return nil, &fs.PathError{Op: "write", Path: path, Err: fmt.Errorf("read-only file (mode %v)", st.Mode().Perm())}
		}
		if !force {
			perm = st.Mode().Perm()
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), TempPrefix(path)+strconv.Itoa(os.Getpid())+"-*")
	if err != nil {
		return nil, err
	}
	name := tmp.Name()
	fail := func(err error) (*Staged, error) {
		tmp.Close()
		os.Remove(name)
		return nil, err
	}
	if _, err := tmp.Write(data); err != nil {
		return fail(err)
	}
	if err := tmp.Chmod(perm); err != nil {
		return fail(err)
	}
	if err := tmp.Sync(); err != nil {
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		return fail(err)
	}
	return &Staged{Path: path, tmp: name}, nil
}

// Commit renames the staged file over its target and syncs the directory so
// the rename itself survives a crash.
func (s *Staged) Commit() error {
	if err := os.Rename(s.tmp, s.Path); err != nil {
		os.Remove(s.tmp)
		return err
	}
	if d, err := os.Open(filepath.Dir(s.Path)); err == nil {
		d.Sync()
		d.Close()
	}
	removeStale(s.Path)
	return nil
}

// TempPrefix starts the name of every temporary file staged for path; the
// writer's process id and a random suffix follow.
func TempPrefix(path string) string { return "." + filepath.Base(path) + ".tmp-" }

// staleAge is how old a temporary file must be before it is removed even
// though its writer's process id is still in use: no write takes this long.
const staleAge = time.Hour

// removeStale deletes the temporary files a killed writer of path left
// behind: those whose process is gone, or that are older than staleAge.
// A live writer's file is left alone, so concurrent writers are safe.
func removeStale(path string) {
	dir, prefix := filepath.Dir(path), TempPrefix(path)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok || !e.Type().IsRegular() {
			continue
		}
		pidText, _, _ := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidText)
		if err != nil || pid == os.Getpid() {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		if !processExists(pid) || time.Since(info.ModTime()) > staleAge {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

// processExists asks the kernel whether pid is a process (signal 0 checks
// without sending). EPERM means it exists but belongs to another user.
func processExists(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// Abort removes the staged file; the target is left as it was.
func (s *Staged) Abort() { os.Remove(s.tmp) }

// WriteAll replaces every file in files (path to content) or none: all are
// staged first, and any staging error removes the staged files before a
// single target changes.
func WriteAll(paths []string, contents [][]byte, perm fs.FileMode) error {
	staged := make([]*Staged, 0, len(paths))
	for i, p := range paths {
		s, err := Stage(p, contents[i], perm)
		if err != nil {
			for _, s := range staged {
				s.Abort()
			}
			return err
		}
		staged = append(staged, s)
	}
	var errs []error
	for _, s := range staged {
		if err := s.Commit(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
