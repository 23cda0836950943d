package filelock

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// flock locks belong to an open file, so one process holding two opens of
// a file sees them conflict: these tests need no second process.

func TestTryLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lock")
	unlock, err := TryLock(path)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("lock file: %v %v", st, err)
	}
	if _, err := TryLock(path); !errors.Is(err, ErrBusy) {
		t.Errorf("second TryLock: %v, want ErrBusy", err)
	}
	unlock()
	again, err := TryLock(path)
	if err != nil {
		t.Fatalf("after unlock: %v", err)
	}
	again()
	if _, err := TryLock(filepath.Join(path, "under-a-file")); err == nil || errors.Is(err, ErrBusy) {
		t.Errorf("a path that cannot be created: %v", err)
	}
}

// held reports whether another holder has path locked.
func held(t *testing.T, path string) bool {
	t.Helper()
	u, err := TryLock(path)
	if errors.Is(err, ErrBusy) {
		return true
	}
	if err != nil {
		t.Fatal(err)
	}
	u()
	return false
}

// lockLater calls Lock in a goroutine and hands over its unlock function
// once Lock returns.
func lockLater(t *testing.T, path string) <-chan func() {
	got := make(chan func())
	go func() {
		u, err := Lock(path)
		if err != nil {
			t.Error(err)
		}
		got <- u
	}()
	return got
}

// TestLockWaits: Lock returns only once the holder lets go, and then holds
// the lock itself.
func TestLockWaits(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	os.WriteFile(path, nil, 0o644)
	unlock, err := TryLock(path)
	if err != nil {
		t.Fatal(err)
	}
	got := lockLater(t, path)
	select {
	case <-got:
		t.Fatal("Lock returned while another holder had the lock")
	case <-time.After(100 * time.Millisecond):
	}
	unlock()
	u := <-got
	if !held(t, path) {
		t.Error("Lock returned without holding the lock")
	}
	u()
	if held(t, path) {
		t.Error("unlock did not release")
	}
	if _, err := Lock(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("Lock of a missing file succeeded")
	}
}

// TestLockFollowsReplacement: a file renamed over the path while Lock
// waits is locked, not the old file nobody asks for any more.
func TestLockFollowsReplacement(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	os.WriteFile(path, []byte("old"), 0o644)
	unlock, err := Lock(path)
	if err != nil {
		t.Fatal(err)
	}
	got := lockLater(t, path)
	time.Sleep(50 * time.Millisecond) // let it wait on the old file
	os.WriteFile(filepath.Join(dir, "new"), []byte("new"), 0o644)
	if err := os.Rename(filepath.Join(dir, "new"), path); err != nil {
		t.Fatal(err)
	}
	unlock()
	u := <-got
	if !held(t, path) {
		t.Error("the lock is not on the file the path names now")
	}
	u()
}

// TestLockAll: duplicates are locked once, everything is released by the
// one function, and a failure releases what was already taken.
func TestLockAll(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	os.WriteFile(a, nil, 0o644)
	os.WriteFile(b, nil, 0o644)
	unlock, err := LockAll([]string{b, a, b})
	if err != nil {
		t.Fatal(err)
	}
	if !held(t, a) || !held(t, b) {
		t.Error("not every file is locked")
	}
	unlock()
	if held(t, a) || held(t, b) {
		t.Error("not every lock was released")
	}
	if _, err := LockAll([]string{a, filepath.Join(dir, "c-missing")}); err == nil {
		t.Fatal("LockAll with a missing file succeeded")
	}
	if held(t, a) {
		t.Error("a failed LockAll kept a lock")
	}
}
