package cwltest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/eoap/cwlbuild/internal/atomicfile"
	"github.com/eoap/cwlbuild/internal/cliapp"
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
	if r.Argv[0] == "calrissian" {
		log := strings.TrimSuffix(r.Params, ".params.yaml") + ".calrissian.log"
		return log, log
	}
	return r.Stdout, r.Stderr
}

// Execute writes the params into the volume and runs the engine.
func Execute(ctx context.Context, r *Run) Result {
	start := time.Now()
	err := execute(ctx, r)
	return Result{Run: r, Err: err, Duration: time.Since(start)}
}

func execute(ctx context.Context, r *Run) error {
	outLog, errLog := r.engineLog()
	for _, d := range []string{r.Volume, filepath.Dir(r.Stdout), filepath.Dir(r.Stderr), filepath.Dir(outLog)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	if err := atomicfile.Write(r.Params, r.ParamsYAML, 0o644); err != nil {
		return err
	}
	prog, err := exec.LookPath(r.Argv[0])
	if err != nil {
		return fmt.Errorf("%s is not installed (not on PATH)", r.Argv[0])
	}
	stdout, err := os.Create(outLog)
	if err != nil {
		return err
	}
	defer stdout.Close()
	stderr := stdout
	if errLog != outLog {
		if stderr, err = os.Create(errLog); err != nil {
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
		return fmt.Errorf("%s: %v", r.Argv[0], err)
	}
	return nil
}

// Tail returns the last n lines of the test's stderr (or of the engine log),
// to show why a test failed.
func (r *Run) Tail(n int) string {
	_, errLog := r.engineLog()
	for _, f := range []string{r.Stderr, errLog} {
		data, err := os.ReadFile(f)
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
