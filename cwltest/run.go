package cwltest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/eoap/cwlbuild/builder"
	"github.com/eoap/cwlbuild/internal/cliapp"
	"github.com/eoap/cwlbuild/internal/genfile"
	"github.com/eoap/cwlbuild/internal/logtext"
)

// Result is the outcome of one test.
type Result struct {
	Run      *Run
	Err      error
	Duration time.Duration
}

// engineLog is where the engine's own stdout and stderr go: for cwltool the
// test's stdout and stderr files (cwltool prints the output object on stdout,
// its log on stderr); Calrissian writes those itself (--stdout/--stderr), so
// its console goes to a log beside them.
func (r *Run) engineLog() (stdout, stderr string) {
	if r.Engine == EngineCluster {
		return r.logFile(), r.logFile()
	}
	return r.Stdout, r.Stderr
}

// logFile is Calrissian's console log, beside the params (a Job's is its
// pod's log, copied back).
func (r *Run) logFile() string {
	return strings.TrimSuffix(r.Params, ".params.yaml") + ".calrissian.log"
}

// Execute writes the params into the volume and runs the engine; progress
// receives a Job's lines, one per pod as it starts and ends.
//
// A test's timeout bounds the run, and passing it fails the test, naming
// the limit; with should_fail, the engine's failure passes the test and its
// success fails it (a run that could not start, or timed out, fails
// either way).
func Execute(ctx context.Context, r *Run, progress io.Writer) Result {
	start := time.Now()
	runCtx := ctx
	var limit time.Duration
	if r.Test != nil && r.Test.Timeout > 0 {
		limit = r.Test.Timeout
		var cancel context.CancelFunc
		runCtx, cancel = context.WithTimeoutCause(ctx, limit, errTimedOut)
		defer cancel()
	}
	err := execute(runCtx, r, progress)
	switch {
	case limit > 0 && errors.Is(context.Cause(runCtx), errTimedOut) && ctx.Err() == nil:
		err = fmt.Errorf("timed out: the run took longer than the test's timeout, %s", limit)
	case r.Test != nil && r.Test.ShouldFail:
		var ef *engineFailed
		if err == nil {
			err = errors.New("the run succeeded, and the test should fail (should_fail = true)")
		} else if errors.As(err, &ef) || r.Job != nil && ctx.Err() == nil {
			err = nil
		}
	case err == nil:
		err = r.checkExpected()
	}
	return Result{Run: r, Err: err, Duration: time.Since(start)}
}

// errTimedOut is the cause of a run's end at its test's timeout.
var errTimedOut = errors.New("the test's timeout passed")

// engineFailed is the engine's own failure (it ran and exited non-zero),
// the one a should_fail test expects; not a run that could not start.
type engineFailed struct{ err error }

func (e *engineFailed) Error() string { return e.err.Error() }
func (e *engineFailed) Unwrap() error { return e.err }

func execute(ctx context.Context, r *Run, progress io.Writer) error {
	outLog, errLog := r.engineLog()
	root := r.root()
	dirs := []string{r.Volume, filepath.Dir(r.Stdout), filepath.Dir(r.Stderr), filepath.Dir(outLog), r.Outdir}
	if r.Test != nil && r.Test.ToolLogsBasepath != "" {
		// Calrissian 0.14.0 fails when it does not exist.
		dirs = append(dirs, r.Test.ToolLogsBasepath)
	}
	for _, d := range dirs {
		if err := genfile.MkdirAll(root, d); err != nil {
			return err
		}
	}
	if err := genfile.WriteAll(ctx, []genfile.File{{Root: root, Path: r.Params, Data: r.ParamsYAML}}); err != nil {
		return err
	}
	if r.Job != nil {
		if progress == nil {
			progress = io.Discard
		}
		return executeJob(ctx, r, progress)
	}
	prog, err := exec.LookPath(r.Argv[0])
	if err != nil {
		return fmt.Errorf("%s is not installed (not on PATH)", r.Argv[0])
	}
	stdout, err := genfile.Create(root, outLog)
	if err != nil {
		return err
	}
	defer stdout.Close()
	stderr := stdout
	if errLog != outLog {
		if stderr, err = genfile.Create(root, errLog); err != nil {
			return err
		}
		defer stderr.Close()
	}
	cmd := exec.CommandContext(ctx, prog, r.Argv[1:]...)
	cmd.Dir = r.Dir
	cmd.Stdout, cmd.Stderr = stdout, stderr
	// On a signal the engine gets the same one and time to stop its own
	// containers or pods; only then is it killed.
	cliapp.PassSignals(ctx, cmd)
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%s stopped: %v", r.Argv[0], context.Cause(ctx))
		}
		return &engineFailed{fmt.Errorf("%s: %v", r.Argv[0], err)}
	}
	return nil
}

// root is the directory below which no symlink may lead a test's files
// away: the package, when the volume is in it (a link committed at the
// volume, at .cwlbuild, or at a log's name could point anywhere); else the
// volume itself, a path of the machine the user chose.
func (r *Run) root() string {
	if rel, err := filepath.Rel(r.Dir, r.Volume); err == nil && filepath.IsLocal(rel) {
		return r.Dir
	}
	return r.Volume
}

// Tail returns the last n lines of the test's stderr (or of the engine log),
// to show why a test failed.
func (r *Run) Tail(n int) string {
	_, errLog := r.engineLog()
	for _, f := range []string{r.Stderr, errLog} {
		data, err := genfile.Read(r.root(), f)
		if err != nil || len(bytes.TrimSpace(data)) == 0 {
			continue
		}
		lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
		if len(lines) > n {
			lines = lines[len(lines)-n:]
		}
		return strings.Join(lines, "\n")
	}
	return ""
}

// ErrFailed is returned when at least one test failed.
var ErrFailed = errors.New("tests failed")

// RunOptions tune RunAll.
type RunOptions struct {
	// KeepGoing runs the remaining tests after a failure.
	KeepGoing bool
	// Progress receives one line as each test starts and ends, and the
	// last lines of a failed test's log (nil: none).
	Progress io.Writer
}

// PlanAll plans every selected case; the first error stops it.
func PlanAll(p *builder.Plan, sel Selector, opts Options) ([]*Run, error) {
	cases, err := Select(p, sel)
	if err != nil {
		return nil, err
	}
	runs := make([]*Run, 0, len(cases))
	for _, c := range cases {
		r, err := PlanRun(p, c, opts)
		if err != nil {
			return nil, err
		}
		runs = append(runs, r)
	}
	return runs, nil
}

// RunAll executes the runs in order and returns a result for each one
// that ran; without KeepGoing it stops after the first failure. It returns
// ErrFailed when any test failed.
func RunAll(ctx context.Context, runs []*Run, opts RunOptions) ([]Result, error) {
	progress := opts.Progress
	if progress == nil {
		progress = io.Discard
	}
	var results []Result
	failed := 0
	for i, r := range runs {
		fmt.Fprintf(progress, "[%d/%d] %s (%s): running %s\n", i+1, len(runs), r.Test.DisplayName(), logtext.Value(r.Test.ID), r.Argv[0])
		res := Execute(ctx, r, progress)
		results = append(results, res)
		if res.Err == nil {
			fmt.Fprintf(progress, "[%d/%d] %s: ok in %s, outputs in %s\n", i+1, len(runs), r.Test.DisplayName(), res.Duration.Round(time.Millisecond), r.Outdir)
			continue
		}
		failed++
		fmt.Fprintf(progress, "[%d/%d] %s: FAILED after %s: %v\n", i+1, len(runs), r.Test.DisplayName(), res.Duration.Round(time.Millisecond), res.Err)
		if tail := r.Tail(15); tail != "" {
			fmt.Fprintf(progress, "    last lines of %s:\n", r.Stderr)
			for _, line := range strings.Split(tail, "\n") {
				fmt.Fprintf(progress, "    %s\n", logtext.Line(line))
			}
		}
		if !opts.KeepGoing || ctx.Err() != nil {
			break
		}
	}
	if failed > 0 {
		return results, failures{failed, len(runs)}
	}
	return results, nil
}

// failures is RunAll's error: "2 of 5 tests failed", and errors.Is(err,
// ErrFailed).
type failures struct{ failed, total int }

func (f failures) Error() string        { return fmt.Sprintf("%d of %d tests failed", f.failed, f.total) }
func (f failures) Is(target error) bool { return target == ErrFailed }

// WriteSummary prints one line per run: ok, FAILED, or skipped for those
// after a failure that stopped the run.
func WriteSummary(w io.Writer, runs []*Run, results []Result) {
	fmt.Fprintln(w, "\nSUMMARY")
	for _, res := range results {
		status := "ok"
		if res.Err != nil {
			status = "FAILED"
		}
		fmt.Fprintf(w, "%-7s %-32s %-22s %s\n", status, res.Run.Test.DisplayName(), logtext.Value(res.Run.Test.ID), res.Duration.Round(time.Millisecond))
	}
	for _, r := range runs[len(results):] {
		fmt.Fprintf(w, "%-7s %-32s %-22s\n", "skipped", r.Test.DisplayName(), logtext.Value(r.Test.ID))
	}
}
