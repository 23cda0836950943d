package atomicfile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestWriteKeepsModeAndLink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "real.cwl")
	os.WriteFile(target, []byte("old"), 0o640)
	link := filepath.Join(dir, "link.cwl")
	if err := os.Symlink("real.cwl", link); err != nil {
		t.Fatal(err)
	}
	if err := Write(link, []byte("new"), 0o600); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the symlink was replaced: %v", err)
	}
	data, _ := os.ReadFile(target)
	fi, _ := os.Stat(target)
	if string(data) != "new" || fi.Mode().Perm() != 0o640 {
		t.Errorf("target %q mode %v, want new 0640", data, fi.Mode().Perm())
	}
	if err := Write(filepath.Join(dir, "fresh"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(filepath.Join(dir, "fresh")); fi.Mode().Perm() != 0o600 {
		t.Errorf("new file mode %v", fi.Mode().Perm())
	}
}

func TestWriteRefusesDirectory(t *testing.T) {
	dir := t.TempDir()
	if err := Write(dir, []byte("x"), 0o644); err == nil {
		t.Fatal("wrote over a directory")
	}
	entries, _ := os.ReadDir(filepath.Dir(dir))
	for _, e := range entries {
		if filepath.Ext(e.Name()) != "" && e.Name()[0] == '.' {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
}

func TestWriteAllIsAllOrNothing(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.cwl")
	os.WriteFile(a, []byte("old a"), 0o644)
	blocked := filepath.Join(dir, "b.cwl")
	os.Mkdir(blocked, 0o755) // a directory where a file is expected
	err := WriteAll(context.Background(), []string{a, blocked}, [][]byte{[]byte("new a"), []byte("new b")}, 0o644, "")
	if err == nil {
		t.Fatal("writing over a directory succeeded")
	}
	if data, _ := os.ReadFile(a); string(data) != "old a" {
		t.Errorf("a.cwl = %q after a failed WriteAll, want it untouched", data)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("temporary files left behind: %v", entries)
	}
	// A run that completes removes its journal: nothing is left to recover.
	journal := filepath.Join(dir, ".journal")
	if err := WriteAll(context.Background(), []string{a}, [][]byte{[]byte("new a")}, 0o644, journal); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(a); string(data) != "new a" {
		t.Errorf("a.cwl = %q, want new a", data)
	}
	if _, err := os.Stat(journal); err == nil {
		t.Error("the journal of a completed run was left")
	}
}

// TestStaleTemporaryFilesRemoved: a commit removes the temporary files of
// writers that were killed (their process is gone) or that are older than
// any write takes, and leaves those of live writers and other files alone.
func TestStaleTemporaryFilesRemoved(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "app.cwl")
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	live := os.Getppid()      // the go test driver, alive while we run
	files := map[string]bool{ // name: should survive
		fmt.Sprintf(".app.cwl.tmp-%d-123", dead.Process.Pid): false,
		fmt.Sprintf(".app.cwl.tmp-%d-456", live):             true,
		fmt.Sprintf(".app.cwl.tmp-%d-789", live):             false, // aged below
		fmt.Sprintf(".app.cwl.tmp-%d-999", dead.Process.Pid): false, // a second: the sweep goes on
		fmt.Sprintf(".app.cwl.tmp-%d-555", live):             true,  // aged just under the threshold
		".app.cwl.tmp-0-1":                                   false, // pid 0 is no writer
		".app.cwl.tmp-notapid":                               true,
		".other.cwl.tmp-1-1":                                 true,
		"app.cwl.tmp-1-1":                                    true,
		"99999-notes.txt":                                    true,
	}
	for name := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-2 * staleAge)
	if err := os.Chtimes(filepath.Join(dir, fmt.Sprintf(".app.cwl.tmp-%d-789", live)), old, old); err != nil {
		t.Fatal(err)
	}
	recent := time.Now().Add(-staleAge + time.Minute)
	os.Chtimes(filepath.Join(dir, fmt.Sprintf(".app.cwl.tmp-%d-555", live)), recent, recent)
	if err := Write(target, []byte("new"), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, survive := range files {
		_, err := os.Stat(filepath.Join(dir, name))
		if survive && err != nil {
			t.Errorf("%s was removed", name)
		}
		if !survive && err == nil {
			t.Errorf("%s was left", name)
		}
	}
}

// TestOwnStagedFilesSurvive: while WriteAll commits one file, the files it
// has staged for the others (same process) are not taken for stale ones.
func TestOwnStagedFilesSurvive(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.cwl"), filepath.Join(dir, "b.cwl")
	sa, err := Stage(a, []byte("A"), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	sb, err := Stage(a, []byte("A2"), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if err := sa.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := sb.Commit(); err != nil {
		t.Fatalf("a staged file of this process was removed by another commit: %v", err)
	}
	if err := WriteAll(context.Background(), []string{a, b}, [][]byte{[]byte("x"), []byte("y")}, 0o644, ""); err != nil {
		t.Fatal(err)
	}
}

// TestWriteKeepsOwnerAndSpecialBits: a rewritten file keeps its owner,
// group, and setuid/setgid bits (a root run must not re-own a user's file).
func TestWriteKeepsOwnerAndSpecialBits(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("giving a file to another user needs root")
	}
	// Another user and group, then only the user, then only the group
	// differing from this process's.
	for _, owner := range [][2]int{{1234, 4321}, {1234, os.Getegid()}, {os.Geteuid(), 4321}} {
		dir := t.TempDir()
		f := filepath.Join(dir, "app.cwl")
		os.WriteFile(f, []byte("old"), 0o644)
		if err := os.Chown(f, owner[0], owner[1]); err != nil {
			t.Fatal(err)
		}
		os.Chmod(f, 0o2755|os.ModeSetgid)
		if err := Write(f, []byte("new"), 0o600); err != nil {
			t.Fatal(err)
		}
		st, _ := os.Stat(f)
		sys := st.Sys().(*syscall.Stat_t)
		if int(sys.Uid) != owner[0] || int(sys.Gid) != owner[1] {
			t.Errorf("owner %d:%d, want %d:%d", sys.Uid, sys.Gid, owner[0], owner[1])
		}
		if st.Mode()&os.ModeSetgid == 0 || st.Mode().Perm() != 0o755 {
			t.Errorf("owner %v: mode %v, want setgid and 0755", owner, st.Mode())
		}
	}
}

// TestWriteRefusesLinksAndUnwritable: a file with another hard link is
// refused (a rename would split the two names), and so is a file this user
// could not write in place, even though its directory is writable.
func TestWriteRefusesLinksAndUnwritable(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "app.cwl")
	os.WriteFile(f, []byte("old"), 0o644)
	os.Link(f, filepath.Join(dir, "other-name.cwl"))
	if err := Write(f, []byte("new"), 0o644); err == nil || !strings.Contains(err.Error(), "has 2 hard links") {
		t.Errorf("hard-linked file: %v", err)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "other-name.cwl")); string(data) != "old" {
		t.Errorf("the other link reads %q", data)
	}
	if os.Geteuid() == 0 {
		// Root may write any file: run the unwritable case as nobody, from
		// a copy of this test binary in a directory nobody can enter.
		shared, err := os.MkdirTemp("", "atomicfile-nobody-")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(shared)
		os.Chmod(shared, 0o777)
		bin := filepath.Join(shared, "atomicfile.test")
		self, _ := os.ReadFile(os.Args[0])
		os.WriteFile(bin, self, 0o755)
		cmd := exec.Command(bin, "-test.run", "^TestHelperWriteAsNobody$")
		g := filepath.Join(shared, "root.cwl")
		os.WriteFile(g, []byte("old"), 0o644)
		cmd.Env = append(os.Environ(), "ATOMICFILE_HELPER="+g)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		out, err := cmd.CombinedOutput()
		if !strings.Contains(string(out), "not writable by this user") {
			t.Logf("helper: %v", err)
			t.Errorf("a user replaced a root-owned file it cannot write:\n%s", out)
		}
		if data, _ := os.ReadFile(g); string(data) != "old" {
			t.Errorf("root.cwl = %q", data)
		}
	}
}

// TestHelperWriteAsNobody is run by TestWriteRefusesLinksAndUnwritable in
// a child process with another user id.
func TestHelperWriteAsNobody(t *testing.T) {
	f := os.Getenv("ATOMICFILE_HELPER")
	if f == "" {
		t.Skip("helper")
	}
	fmt.Println(Write(f, []byte("new"), 0o644))
}

// TestWriteAllCancelled: a cancelled context (a signal) before the renames
// leaves every target old and no staged file.
func TestWriteAllCancelled(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.cwl")
	os.WriteFile(a, []byte("old"), 0o644)
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(errors.New("terminated"))
	err := WriteAll(ctx, []string{a}, [][]byte{[]byte("new")}, 0o644, filepath.Join(dir, "journal"))
	if err == nil || !strings.Contains(err.Error(), "interrupted before any file was replaced: terminated") {
		t.Errorf("err %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if data, _ := os.ReadFile(a); string(data) != "old" || len(entries) != 1 {
		t.Errorf("a.cwl %q, entries %v", data, entries)
	}
}

// TestRecover: a journal written before the renames lets the next run
// finish them; a journal naming anything but a staged copy is refused.
func TestRecover(t *testing.T) {
	dir := t.TempDir()
	var targets []string
	for _, n := range []string{"a.cwl", "b.cwl", "c.cwl"} {
		p := filepath.Join(dir, n)
		os.WriteFile(p, []byte("old"), 0o644)
		targets = append(targets, p)
	}
	journal := filepath.Join(dir, ".journal")
	var staged []*Staged
	for _, p := range targets {
		s, err := Stage(p, []byte("new"), 0o644)
		if err != nil {
			t.Fatal(err)
		}
		staged = append(staged, s)
	}
	// The journal WriteAll writes before its first rename; then the first
	// rename, then a kill.
	if err := writeJournal(journal, staged); err != nil {
		t.Fatal(err)
	}
	os.Rename(staged[0].tmp, staged[0].Path)
	n, err := Recover(journal)
	if err != nil || n != 2 {
		t.Fatalf("Recover: %d, %v", n, err)
	}
	for _, p := range targets {
		if data, _ := os.ReadFile(p); string(data) != "new" {
			t.Errorf("%s = %q", p, data)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 3 {
		t.Errorf("left behind: %v", entries)
	}
	if n, err := Recover(journal); n != 0 || err != nil {
		t.Errorf("no journal: %d %v", n, err)
	}
	// A journal that would rename an arbitrary file over another.
	other := filepath.Join(dir, "secret")
	os.WriteFile(other, []byte("s"), 0o644)
	data, _ := json.Marshal(journalFile{Renames: []journalEntry{{Tmp: other, Target: targets[0]}}})
	os.WriteFile(journal, data, 0o644)
	if _, err := Recover(journal); err == nil || !strings.Contains(err.Error(), "is not a staged copy") {
		t.Errorf("hostile journal: %v", err)
	}
	if data, _ := os.ReadFile(targets[0]); string(data) != "new" {
		t.Errorf("hostile journal renamed: %q", data)
	}
}

// TestRemoveStaged: what a signal handler calls removes this process's
// staged files and nothing else.
func TestRemoveStaged(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.cwl")
	notes := filepath.Join(dir, "99999-notes.txt")
	os.WriteFile(notes, []byte("keep"), 0o644)
	if _, err := Stage(a, []byte("new"), 0o644); err != nil {
		t.Fatal(err)
	}
	RemoveStaged()
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != "99999-notes.txt" {
		t.Errorf("after RemoveStaged: %v", entries)
	}
}

// TestCommitRenameError: an error from the final rename is returned, and
// WriteAll reports it as a partial write.
func TestCommitRenameError(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "app.cwl")
	s, err := Stage(target, []byte("new"), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(s.tmp) // the staged file vanished
	if err := s.Commit(); err == nil {
		t.Error("a failed rename was not reported")
	}
	if _, err := os.Stat(target); err == nil {
		t.Error("the target appeared anyway")
	}
}
