// Package atomicfile replaces files so that a reader, or a crash, sees either
// the whole old content or the whole new content, never a mix: the data goes
// to a temporary file in the same directory, is synced, and is renamed over
// the target. A writer killed before the rename leaves its temporary file;
// the next commit to the same target removes it.
package atomicfile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Write replaces path with data. An existing file keeps its owner, group and
// mode (setuid and setgid bits included); a new one gets perm. A symlink is
// followed, so the link stays and its target changes. A file the caller
// could not write in place, or one with other hard links (which a rename
// would split from it), is refused.
func Write(path string, data []byte, perm fs.FileMode) error {
	return WriteContext(context.Background(), path, data, perm)
}

// WriteContext is Write that gives up, leaving path as it was, when ctx has
// ended (a signal) by the time the new content is staged.
func WriteContext(ctx context.Context, path string, data []byte, perm fs.FileMode) error {
	s, err := Stage(path, data, perm)
	if err != nil {
		return err
	}
	if ctx.Err() != nil {
		s.Abort()
		return fmt.Errorf("interrupted: %s was not replaced: %w", path, context.Cause(ctx))
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
	var owner *syscall.Stat_t
	if st, err := os.Stat(path); err == nil {
		if !st.Mode().IsRegular() {
			return nil, &fs.PathError{Op: "write", Path: path, Err: errors.New("not a regular file")}
		}
		if !force && st.Mode().Perm()&0o222 == 0 {
			// Root could replace it anyway; a file nobody may write was made
			// read-only on purpose, so it is not silently rewritten.
			return nil, &fs.PathError{Op: "write", Path: path, Err: fmt.Errorf("read-only file (mode %v)", st.Mode().Perm())}
		}
		if sys, ok := st.Sys().(*syscall.Stat_t); ok {
			owner = sys
			if sys.Nlink > 1 {
				return nil, &fs.PathError{Op: "write", Path: path, Err: fmt.Errorf("has %d hard links: replacing it would split them (the other names would keep the old content)", sys.Nlink)}
			}
		}
		// Replacing a file needs only its directory writable; refuse what
		// the caller could not have written in place.
		if !force && syscall.Access(path, 2 /* W_OK */) != nil {
			return nil, &fs.PathError{Op: "write", Path: path, Err: errors.New("permission denied: not writable by this user")}
		}
		if !force {
			perm = st.Mode() & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), TempPrefix(path)+strconv.Itoa(os.Getpid())+"-*")
	if err != nil {
		return nil, err
	}
	name := tmp.Name()
	track(name)
	fail := func(err error) (*Staged, error) {
		tmp.Close()
		os.Remove(name)
		untrack(name)
		return nil, err
	}
	if _, err := tmp.Write(data); err != nil {
		return fail(err)
	}
	if owner != nil && (int(owner.Uid) != os.Geteuid() || int(owner.Gid) != os.Getegid()) {
		// Keep the owner: a root run must not hand a user's file to root.
		if err := tmp.Chown(int(owner.Uid), int(owner.Gid)); err != nil {
			return fail(&fs.PathError{Op: "write", Path: path, Err: fmt.Errorf("owned by uid %d gid %d, which this user cannot give the new file: %v", owner.Uid, owner.Gid, err)})
		}
	}
	// After the chown, which clears setuid and setgid.
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
	if err := s.rename(); err != nil {
		return err
	}
	syncDir(filepath.Dir(s.Path))
	removeStale(filepath.Dir(s.Path), map[string]bool{TempPrefix(s.Path): true})
	return nil
}

func (s *Staged) rename() error {
	defer untrack(s.tmp)
	if err := os.Rename(s.tmp, s.Path); err != nil {
		os.Remove(s.tmp)
		return err
	}
	return nil
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// TempPrefix starts the name of every temporary file staged for path; the
// writer's process id and a random suffix follow.
func TempPrefix(path string) string { return "." + filepath.Base(path) + ".tmp-" }

// staleAge is how old a temporary file must be before it is removed even
// though its writer's process id is still in use: no write takes this long.
const staleAge = time.Hour

// removeStale deletes, in dir, the temporary files killed writers left
// behind for the targets whose TempPrefix is in prefixes: those whose
// process is gone, or that are older than staleAge. A live writer's file is
// left alone, so concurrent writers are safe; so is any other file.
func removeStale(dir string, prefixes map[string]bool) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		name := e.Name()
		i := strings.LastIndex(name, ".tmp-")
		if i < 0 || !e.Type().IsRegular() || !prefixes[name[:i+len(".tmp-")]] {
			continue
		}
		pidText, _, _ := strings.Cut(name[i+len(".tmp-"):], "-")
		pid, err := strconv.Atoi(pidText)
		if err != nil || pid == os.Getpid() {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		if !processExists(pid) || time.Since(info.ModTime()) > staleAge {
			os.Remove(filepath.Join(dir, name))
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
func (s *Staged) Abort() {
	os.Remove(s.tmp)
	untrack(s.tmp)
}

// live is every temporary file this process has staged and not yet
// committed or aborted, so that a signal handler can remove them.
var live = struct {
	sync.Mutex
	names map[string]bool
}{names: map[string]bool{}}

func track(name string) {
	live.Lock()
	live.names[name] = true
	live.Unlock()
}

func untrack(name string) {
	live.Lock()
	delete(live.names, name)
	live.Unlock()
}

// RemoveStaged deletes every file this process staged and has not
// committed: what a command interrupted by a signal calls before it exits.
func RemoveStaged() {
	live.Lock()
	defer live.Unlock()
	for name := range live.names {
		os.Remove(name)
		delete(live.names, name)
	}
}

// WriteAll replaces every file in paths (with the content at the same
// index) or none: all are staged first, and a staging error, or ctx ending
// (a signal), removes the staged files before a single target changes.
// Once the renames begin they all run, whatever ctx says: they are quick,
// and stopping halfway would leave a mix.
//
// journal, when not "", names a file written (synced) before the first
// rename and removed after the last: it lists every staged file and its
// target, so that a run killed in between is completed by Recover.
func WriteAll(ctx context.Context, paths []string, contents [][]byte, perm fs.FileMode, journal string) error {
	// Stage in parallel: each file's fsync waits on the disk, not the CPU.
	staged := make([]*Staged, len(paths))
	errs := make([]error, len(paths))
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < min(stageWorkers, len(paths)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				staged[i], errs[i] = Stage(paths[i], contents[i], perm)
			}
		}()
	}
	stopped := false
	for i := range paths {
		if ctx.Err() != nil {
			stopped = true
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	err := errors.Join(errs...)
	if stopped || err == nil && ctx.Err() != nil {
		err = fmt.Errorf("interrupted before any file was replaced: %w", context.Cause(ctx))
	}
	if err == nil && journal != "" {
		err = writeJournal(journal, staged)
	}
	if err != nil {
		for _, s := range staged {
			if s != nil {
				s.Abort()
			}
		}
		return err
	}
	// Rename everything, then sync each directory once and sweep it once
	// for stale files: per file, both would cost a pass over the directory.
	var failed []error
	prefixes := map[string]map[string]bool{}
	for _, s := range staged {
		if err := s.rename(); err != nil {
			failed = append(failed, err)
			continue
		}
		dir := filepath.Dir(s.Path)
		if prefixes[dir] == nil {
			prefixes[dir] = map[string]bool{}
		}
		prefixes[dir][TempPrefix(s.Path)] = true
	}
	for dir, p := range prefixes {
		syncDir(dir)
		removeStale(dir, p)
	}
	if len(failed) > 0 {
		// The journal stays: the next run renames what is still staged.
		return fmt.Errorf("%w: %w", ErrPartial, errors.Join(failed...))
	}
	if journal != "" {
		os.Remove(journal)
	}
	return nil
}

// writeJournal records, before the first rename, every staged file and its
// target (see Recover).
func writeJournal(journal string, staged []*Staged) error {
	var j journalFile
	for _, s := range staged {
		j.Renames = append(j.Renames, journalEntry{Tmp: s.tmp, Target: s.Path})
	}
	data, err := json.Marshal(j)
	if err == nil {
		err = Write(journal, data, 0o644)
	}
	if err != nil {
		return fmt.Errorf("journal %s: %w", journal, err)
	}
	return nil
}

// ErrPartial is wrapped by a WriteAll error from the rename phase: some
// files were replaced and others not.
var ErrPartial = errors.New("some files were replaced and others not")

// stageWorkers is how many files WriteAll stages at once.
const stageWorkers = 8

// journalFile is what WriteAll's journal holds.
type journalFile struct {
	Renames []journalEntry `json:"renames"`
}

type journalEntry struct {
	Tmp    string `json:"tmp"`
	Target string `json:"target"`
}

// Recover completes the renames of a WriteAll whose process was killed
// after it wrote journal: each staged file still present is renamed over
// its target (each was complete and synced before the journal was written),
// then the journal is removed. It returns how many files it renamed; no
// journal is no work. An entry that is not a staged file of its target's
// directory (a journal edited by hand, or by someone else) is refused, and
// nothing is renamed.
func Recover(journal string) (int, error) {
	data, err := os.ReadFile(journal)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	} else if err != nil {
		return 0, err
	}
	var j journalFile
	if err := json.Unmarshal(data, &j); err != nil {
		return 0, fmt.Errorf("journal %s: %v", journal, err)
	}
	for _, e := range j.Renames {
		if filepath.Dir(e.Tmp) != filepath.Dir(e.Target) || !strings.HasPrefix(filepath.Base(e.Tmp), TempPrefix(e.Target)) || !filepath.IsAbs(e.Target) {
			return 0, fmt.Errorf("journal %s: %q is not a staged copy of %q; remove the journal if you know why", journal, e.Tmp, e.Target)
		}
	}
	n := 0
	for _, e := range j.Renames {
		if err := os.Rename(e.Tmp, e.Target); err == nil {
			n++
		} else if !errors.Is(err, fs.ErrNotExist) {
			return n, fmt.Errorf("journal %s: %v", journal, err)
		}
	}
	return n, os.Remove(journal)
}
