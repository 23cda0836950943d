package cwltest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eoap/cwlbuild/builder"
	"github.com/eoap/cwlbuild/internal/shell"
)

// TestExecuteOutcome: should_fail turns the engine's failure into a pass
// and its success into a failure, but not a run that could not start; a
// timeout ends the run and fails the test naming the limit, should_fail
// or not.
func TestExecuteOutcome(t *testing.T) {
	for _, tc := range []struct {
		name       string
		argv       shell.Command
		shouldFail bool
		timeout    time.Duration
		want       string // "" passes
	}{
		{"success", shell.Command{"true"}, false, 0, ""},
		{"failure", shell.Command{"false"}, false, 0, "false: exit status 1"},
		{"should fail, fails", shell.Command{"false"}, true, 0, ""},
		{"should fail, succeeds", shell.Command{"true"}, true, 0, "the run succeeded, and the test should fail (should_fail = true)"},
		{"should fail, cannot start", shell.Command{"no-such-engine-here"}, true, 0, "no-such-engine-here is not installed"},
		{"timeout", shell.Command{"sleep", "30"}, false, 300 * time.Millisecond, "timed out: the run took longer than the test's timeout, 300ms"},
		{"should fail, timeout", shell.Command{"sleep", "30"}, true, 300 * time.Millisecond, "timed out"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pkg := t.TempDir()
			vol := filepath.Join(pkg, ".cwlbuild", "tests", "t")
			r := &Run{Dir: pkg, Argv: tc.argv, Volume: vol, Params: filepath.Join(vol, "t.params.yaml"),
				ParamsYAML: []byte("x: 1\n"), Stdout: filepath.Join(vol, "t.stdout.json"), Stderr: filepath.Join(vol, "t.stderr.log"), Outdir: filepath.Join(vol, "outputs"),
				Test: &builder.TestPlan{ID: "t", ShouldFail: tc.shouldFail, Timeout: tc.timeout}}
			start := time.Now()
			err := Execute(context.Background(), r, nil).Err
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("err %v, want %q", err, tc.want)
			}
			if took := time.Since(start); took > 20*time.Second {
				t.Errorf("the run was not stopped: %s", took)
			}
		})
	}
}

// TestExpectFileReadThroughNoLink: an expect file that became a symlink
// after the package loaded (here, to a file outside it) is refused when the
// run's output is matched, and the file it points at is not read; the same
// file, plain, is read and matched.
func TestExpectFileReadThroughNoLink(t *testing.T) {
	pkg := t.TempDir()
	vol := filepath.Join(pkg, ".cwlbuild", "tests", "t")
	outside := filepath.Join(t.TempDir(), "expect.json")
	os.WriteFile(outside, []byte(`{"out": "not what ran"}`), 0o644)
	expect := filepath.Join(pkg, "expect.json")
	r := &Run{Dir: pkg, Argv: shell.Command{"sh", "-c", `echo '{"out": "ran"}'`}, Volume: vol, Params: filepath.Join(vol, "t.params.yaml"),
		ParamsYAML: []byte("x: 1\n"), Stdout: filepath.Join(vol, "t.stdout.json"), Stderr: filepath.Join(vol, "t.stderr.log"), Outdir: filepath.Join(vol, "outputs"),
		Test: &builder.TestPlan{ID: "t", ExpectFile: expect}}
	os.Symlink(outside, expect)
	if err := Execute(context.Background(), r, nil).Err; err == nil || !strings.Contains(err.Error(), "symlink") || strings.Contains(err.Error(), "not what ran") {
		t.Errorf("an expect file that is a link out: %v", err)
	}
	os.Remove(expect)
	os.WriteFile(expect, []byte(`{"out": "ran"}`), 0o644)
	if err := Execute(context.Background(), r, nil).Err; err != nil {
		t.Errorf("a plain expect file: %v", err)
	}
}
