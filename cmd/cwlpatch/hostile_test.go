package main

import (
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/eoap/cwlbuild/internal/synth"
	"github.com/eoap/cwlbuild/internal/testenv"
)

// TestHostileInputs: each input is refused with a clear error (or patched
// correctly), and a refused run changes no file.
func TestHostileInputs(t *testing.T) {
	bomb := "a: &a [x, x, x, x, x, x, x, x, x]\n"
	for i := 'b'; i <= 'k'; i++ {
		bomb += fmt.Sprintf("%c: &%c [*%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c]\n", i, i, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1)
	}
	tests := []struct {
		name    string
		prepare func(t *testing.T) // in the package directory
		want    string
	}{
		// yaml.v3's node tree keeps aliases unexpanded: a billion laughs costs
		// nothing, and the package next to it is patched as usual.
		{"alias bomb", func(t *testing.T) {
			data, _ := os.ReadFile("app.cwl")
			os.WriteFile("app.cwl", append([]byte(bomb), data...), 0o644)
		}, ""},
		{"deep nesting", func(t *testing.T) {
			os.WriteFile("app.cwl", []byte("cwlVersion: v1.2\nx: "+strings.Repeat("[", 200000)+strings.Repeat("]", 200000)+"\n"), 0o644)
		}, "app.cwl"},
		{"non-UTF-8 bytes", func(t *testing.T) {
			data, _ := os.ReadFile("app.cwl")
			os.WriteFile("app.cwl", append([]byte("# \xff\xfe bad bytes\n"), data...), 0o644)
		}, "app.cwl"},
		{"100 MB CWL", func(t *testing.T) {
			f, _ := os.OpenFile("app.cwl", os.O_WRONLY, 0)
			f.Truncate(100 << 20) // sparse: no disk, no memory
			f.Close()
		}, "larger than cwlpatch reads"},
		{"1 GB build.json", func(t *testing.T) {
			f, _ := os.OpenFile("build.json", os.O_WRONLY, 0)
			f.Truncate(1 << 30)
			f.Close()
		}, "larger than any build output"},
		{"directory for build.json", func(t *testing.T) {
			os.Rename("build.json", "b.json")
			os.Mkdir("build.json", 0o755)
		}, "is a directory"},
		{"read-only CWL", func(t *testing.T) {
			os.Chmod("app.cwl", 0o444)
		}, "read-only file"},
		{"directory for the CWL file", func(t *testing.T) {
			os.Rename("app.cwl", "app.cwl.bak")
			os.Mkdir("app.cwl", 0o755)
		}, "not a regular file"},
		{"context outside the project", func(t *testing.T) {
			data, _ := os.ReadFile("project.toml")
			os.WriteFile("project.toml", []byte(strings.Replace(string(data), `context = "context"`, `context = "../context"`, 1)), 0o644)
		}, `"../context": outside the project directory`},
		{"CWL path outside the project", func(t *testing.T) {
			data, _ := os.ReadFile("project.toml")
			os.WriteFile("project.toml", []byte(strings.Replace(string(data), `path = "app.cwl#zeta"`, `path = "/etc/app.cwl#zeta"`, 1)), 0o644)
		}, `outside the project directory`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := setupCase(t, "order")
			t.Chdir(dir)
			tc.prepare(t)
			before := snapshot(t, dir)
			_, stderr, code := run(t, "", "build.json")
			t.Logf("stderr: %.300s", stderr)
			if tc.want == "" {
				data, _ := os.ReadFile("app.cwl")
				if code != 0 || strings.Count(string(data), "@sha256:") != 3 {
					t.Errorf("exit %d: %s", code, stderr)
				}
				return
			}
			if code != 1 || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want 1 and %q", code, stderr, tc.want)
			}
			if !equalFiles(t, before, snapshot(t, dir)) {
				t.Error("a refused run changed files")
			}
		})
	}
}

func TestAllowOutsidePaths(t *testing.T) {
	root := t.TempDir()
	testenv.CopyTree(t, filepath.Join(casesDir, "context"), filepath.Join(root, "shared-context"), nil)
	dir := filepath.Join(root, "pkg")
	testenv.CopyTree(t, filepath.Join(casesDir, "order"), dir, caseFiles)
	data, _ := os.ReadFile(filepath.Join(dir, "project.toml"))
	os.WriteFile(filepath.Join(dir, "project.toml"), []byte(strings.ReplaceAll(string(data), `context = "context"`, `context = "../shared-context"`)), 0o644)
	t.Chdir(dir)
	if _, _, code := run(t, "", "build.json"); code != 1 {
		t.Fatal("a context outside the project was accepted")
	}
	if _, stderr, code := run(t, "", "--allow-outside-paths", "build.json"); code != 0 {
		t.Errorf("--allow-outside-paths: exit %d: %s", code, stderr)
	}
}

// TestKillNine kills cwlpatch with SIGKILL at random moments while it pins
// a 3000-tool package (600 tools and 8 kills under -short): afterwards the
// CWL file is always either entirely the old content or entirely the new,
// never a mix or a truncated file; the next complete run removes the
// temporary files the killed ones left.
func TestKillNine(t *testing.T) {
	tools, kills := 3000, 20
	if testing.Short() {
		tools, kills = 600, 8
	}
	bin := testenv.BuildBinary(t, "./cmd/cwlpatch")
	pkg, err := synth.Write(t.TempDir(), tools)
	if err != nil {
		t.Fatal(err)
	}
	old, _ := os.ReadFile(pkg.CWL)
	cmd := exec.Command(bin, "-q", "-f", pkg.Project, pkg.BuildJSON)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	patched, _ := os.ReadFile(pkg.CWL)
	start := time.Now()
	cmd = exec.Command(bin, "-q", "-f", pkg.Project, pkg.BuildJSON)
	os.WriteFile(pkg.CWL, old, 0o644)
	cmd.Run()
	full := time.Since(start)

	rng := rand.New(rand.NewSource(1))
	outcomes := map[string]int{}
	for i := 0; i < kills; i++ {
		os.WriteFile(pkg.CWL, old, 0o644)
		cmd := exec.Command(bin, "-q", "-f", pkg.Project, pkg.BuildJSON)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(rng.Int63n(int64(full) + 1)))
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		got, err := os.ReadFile(pkg.CWL)
		switch {
		case err != nil:
			t.Fatalf("after kill %d: %v", i, err)
		case string(got) == string(old):
			outcomes["old"]++
		case string(got) == string(patched):
			outcomes["new"]++
		default:
			t.Fatalf("after kill %d the CWL is neither old nor new (%d bytes)", i, len(got))
		}
	}
	t.Logf("outcomes over %d kills: %v (a full run takes %v)", kills, outcomes, full)
	if outcomes["old"] == 0 {
		t.Errorf("no kill landed before the write ended: %v", outcomes)
	}
	testenv.RequireNoLeftoversAfterRun(t, pkg.CWL, exec.Command(bin, "-q", "-f", pkg.Project, pkg.BuildJSON))
}

// waitForJournal returns once the run has written its journal (the renames
// are about to begin) or has ended, then waits up to max more: how the kill
// tests aim at the rename phase, which is short.
func waitForJournal(pkg *synth.Package, cmd *exec.Cmd, rng *rand.Rand, max time.Duration) {
	journal := filepath.Join(pkg.Dir, ".cwlpatch-journal")
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); {
		if _, err := os.Stat(journal); err == nil {
			break
		}
		if cmd.ProcessState != nil || syscall.Kill(cmd.Process.Pid, 0) != nil {
			return
		}
		time.Sleep(50 * time.Microsecond)
	}
	time.Sleep(time.Duration(rng.Int63n(int64(max) + 1)))
}

// splitPackage writes a package of 1500 single-process files and patches
// it once: the cwlpatch binary, the package, a function putting every file
// back as it was, and how long a full run takes.
func splitPackage(t *testing.T) (string, *synth.Package, func(), time.Duration) {
	t.Helper()
	bin := testenv.BuildBinary(t, "./cmd/cwlpatch")
	pkg, err := synth.WriteSplit(t.TempDir(), 1500)
	if err != nil {
		t.Fatal(err)
	}
	originals := map[string][]byte{}
	for _, tool := range pkg.Tools {
		f := filepath.Join(pkg.Dir, "tools", tool+".cwl")
		originals[f], _ = os.ReadFile(f)
	}
	reset := func() {
		for f, data := range originals {
			os.WriteFile(f, data, 0o644)
		}
	}
	start := time.Now()
	if out, err := exec.Command(bin, "-q", "-f", pkg.Project, pkg.BuildJSON).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	return bin, pkg, reset, time.Since(start)
}

// splitState counts, over a WriteSplit package, the tool files still old
// and those pinned, and lists leftover temporary files and the journal.
func splitState(t *testing.T, pkg *synth.Package) (old, pinned int, leftovers []string) {
	t.Helper()
	for _, tool := range pkg.Tools {
		data, err := os.ReadFile(filepath.Join(pkg.Dir, "tools", tool+".cwl"))
		switch {
		case err != nil:
			t.Fatal(err)
		case strings.Contains(string(data), ":latest\n"):
			old++
		case strings.Contains(string(data), "@sha256:"):
			pinned++
		default:
			t.Fatalf("%s is neither old nor pinned:\n%s", tool, data)
		}
	}
	leftovers, _ = filepath.Glob(filepath.Join(pkg.Dir, "tools", ".*.tmp-*"))
	if _, err := os.Stat(filepath.Join(pkg.Dir, ".cwlpatch-journal")); err == nil {
		leftovers = append(leftovers, ".cwlpatch-journal")
	}
	return old, pinned, leftovers
}

// TestSignalsAllOrNothing sends SIGTERM and SIGINT at moments spread over a
// run that rewrites 1500 files. Before the first rename the run stops and
// every file is old; once renaming began it finishes and every file is new;
// never a mix, and no temporary file is left either way. A signal that
// ended the run is reported with exit 1.
func TestSignalsAllOrNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("slow (about 40 s): the full tier runs it")
	}
	bin, pkg, reset, full := splitPackage(t)
	rng := rand.New(rand.NewSource(2))
	outcomes := map[string]int{}
	for i := 0; i < 18; i++ {
		reset()
		sig := []syscall.Signal{syscall.SIGTERM, syscall.SIGINT}[i%2]
		cmd := exec.Command(bin, "-q", "-f", pkg.Project, pkg.BuildJSON)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if i%3 == 2 {
			waitForJournal(pkg, cmd, rng, 2*time.Millisecond)
		} else {
			time.Sleep(time.Duration(rng.Int63n(int64(full) + 1)))
		}
		signalErr := cmd.Process.Signal(sig) // fails if the run had already ended
		err := cmd.Wait()
		old, pinned, leftovers := splitState(t, pkg)
		if len(leftovers) > 0 {
			t.Fatalf("%v %d: left %v", sig, i, leftovers)
		}
		switch {
		case old == len(pkg.Tools) && err != nil && cmd.ProcessState.Sys().(syscall.WaitStatus).Signaled():
			// The signal came before the handler was installed, at start.
			outcomes["killed at start, all old"]++
		case old == len(pkg.Tools) && err != nil:
			outcomes["stopped, all old"]++
			if !strings.Contains(stderr.String(), "no file was changed") {
				t.Errorf("%v %d: stopped without saying so:\n%s", sig, i, stderr.String())
			}
		case pinned == len(pkg.Tools) && err != nil:
			outcomes["finished, all new"]++
			if !strings.Contains(stderr.String(), "every file is pinned") {
				t.Errorf("%v %d: exit %v:\n%s", sig, i, err, stderr.String())
			}
		case pinned == len(pkg.Tools) && err == nil:
			// Done before the signal, or the signal came after the last
			// point that looks at it: either way the work was complete.
			outcomes["done"]++
		default:
			t.Fatalf("%v %d: %d old, %d pinned, exit %v, signal %v:\n%s", sig, i, old, pinned, err, signalErr, stderr.String())
		}
	}
	t.Logf("outcomes: %v (a full run takes %v)", outcomes, full)
	if outcomes["stopped, all old"] < 4 || outcomes["finished, all new"] < 2 {
		t.Errorf("too few signals landed before, or among, the renames: %v", outcomes)
	}
}

// TestKillNineCompletedByNextRun kills a 1500-file run with SIGKILL at
// moments spread over it: the files are all old, all new, or, when the kill
// landed among the renames, a mix with a journal beside the project; the
// next run completes the renames, says so, and leaves all new with no
// temporary file and no journal.
func TestKillNineCompletedByNextRun(t *testing.T) {
	if testing.Short() {
		t.Skip("slow (about 40 s): the full tier runs it")
	}
	bin, pkg, reset, full := splitPackage(t)
	rng := rand.New(rand.NewSource(3))
	outcomes := map[string]int{}
	for i := 0; i < 12; i++ {
		reset()
		cmd := exec.Command(bin, "-q", "-f", pkg.Project, pkg.BuildJSON)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Mostly among the renames, which begin once the journal is written.
		if i%4 == 0 {
			time.Sleep(time.Duration(rng.Int63n(int64(full) + 1)))
		} else {
			waitForJournal(pkg, cmd, rng, 3*time.Millisecond)
		}
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		old, pinned, _ := splitState(t, pkg)
		_, journal := os.Stat(filepath.Join(pkg.Dir, ".cwlpatch-journal"))
		switch {
		case old == len(pkg.Tools):
			outcomes["all old"]++
		case pinned == len(pkg.Tools):
			outcomes["all new"]++
		case journal == nil:
			outcomes["mixed, journal"]++
		default:
			t.Fatalf("kill %d: %d old, %d pinned and no journal", i, old, pinned)
		}
		out, err := exec.Command(bin, "-f", pkg.Project, pkg.BuildJSON).CombinedOutput()
		if err != nil {
			t.Fatalf("run after kill %d: %v\n%s", i, err, out)
		}
		// A kill between the last rename and the journal's removal leaves
		// every file new and the journal: nothing is left to complete.
		if journal == nil && pinned != len(pkg.Tools) && !strings.Contains(string(out), "completed an interrupted run") {
			t.Errorf("run after kill %d did not say it completed the killed one:\n%s", i, out)
		}
		if old, pinned, leftovers := splitState(t, pkg); pinned != len(pkg.Tools) || len(leftovers) > 0 {
			t.Fatalf("after kill %d and a new run: %d old, %d pinned, left %v", i, old, pinned, leftovers)
		}
	}
	t.Logf("outcomes of 12 kills: %v (a full run takes %v)", outcomes, full)
	if outcomes["mixed, journal"] < 3 {
		t.Errorf("too few kills landed among the renames: %v", outcomes)
	}
}

// TestReadOnlyModesLeaveAJournal: --dry-run and --check never complete a
// killed run's renames (they write nothing); they say what to run instead.
func TestReadOnlyModesLeaveAJournal(t *testing.T) {
	dir := setupCase(t, "order")
	t.Chdir(dir)
	journal := filepath.Join(dir, ".cwlpatch-journal")
	os.WriteFile(journal, []byte(`{"renames":[]}`), 0o644)
	for _, args := range [][]string{{"--dry-run", "build.json"}, {"--check", "build.json"}, {"--check"}} {
		_, stderr, code := run(t, "", args...)
		if code != 1 || !strings.Contains(stderr, "was killed while replacing files") {
			t.Errorf("%v: exit %d\n%s", args, code, stderr)
		}
		if _, err := os.Stat(journal); err != nil {
			t.Errorf("%v removed the journal", args)
		}
	}
	if _, stderr, code := run(t, "", "build.json"); code != 0 {
		t.Fatalf("a writing run: exit %d\n%s", code, stderr)
	}
	if _, err := os.Stat(journal); err == nil {
		t.Error("a writing run left the journal")
	}
}
