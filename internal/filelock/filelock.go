// Package filelock serializes runs that rewrite the same files: two cwlpatch
// runs started together, on one package or on two packages sharing a CWL
// file, take turns instead of interleaving their reads and writes.
package filelock

import (
	"fmt"
	"os"
	"sort"
	"syscall"
)

// Lock takes an exclusive advisory lock on path (an existing file; locking
// changes nothing on disk) and blocks until it is granted. The returned
// function releases it.
//
// A file that is replaced by a rename while we wait is a new file: the lock
// we got is on the old one, which nobody else will ask for. So once granted,
// the lock is checked to be on the file the path names now, and taken again
// if not.
func Lock(path string) (unlock func(), err error) {
	for {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		for {
			err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
			if err != syscall.EINTR {
				break
			}
		}
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		held, err1 := f.Stat()
		now, err2 := os.Stat(path)
		if err1 == nil && err2 == nil && os.SameFile(held, now) {
			return func() {
				syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
				f.Close()
			}, nil
		}
		f.Close() // replaced while we waited: lock the new file
	}
}

// LockAll locks every path, in sorted order so that two runs locking
// overlapping sets cannot deadlock, and returns one function releasing all.
func LockAll(paths []string) (unlock func(), err error) {
	sorted := append([]string(nil), paths...)
	sort.Strings(sorted)
	var unlocks []func()
	release := func() {
		for i := len(unlocks) - 1; i >= 0; i-- {
			unlocks[i]()
		}
	}
	for i, p := range sorted {
		if i > 0 && p == sorted[i-1] {
			continue
		}
		u, err := Lock(p)
		if err != nil {
			release()
			return nil, err
		}
		unlocks = append(unlocks, u)
	}
	return release, nil
}

// ErrBusy is TryLock's error when another process holds the lock.
var ErrBusy = fmt.Errorf("held by another process")

// TryLock takes an exclusive advisory lock on path, creating the file if
// needed, without waiting: ErrBusy when another process holds it. The lock
// goes with the process, so a killed holder never leaves it taken.
func TryLock(path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if err == syscall.EWOULDBLOCK {
			return nil, ErrBusy
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
