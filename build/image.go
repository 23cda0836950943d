package build

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/eoap/cwlbuild/internal/filelock"
)

// ImageOptions tune Image.
type ImageOptions struct {
	// Stdout and Stderr receive the build's output (nil: os.Stdout and
	// os.Stderr).
	Stdout, Stderr io.Writer
	// Run runs each command (nil: Exec to Stdout and Stderr); a Solver
	// runs none.
	Run Runner
	// Label names the build in errors ("tool crop (r/crop:1)"; "" is the
	// image).
	Label string
}

// Image builds and pushes one image with backend be, holding its lock
// while it builds when the backend is Exclusive (Kaniko). An error names
// the build and the command that failed.
func Image(ctx context.Context, s *Spec, be Backend, opts ImageOptions) error {
	cmds, err := be.Commands(s)
	if err != nil {
		return err
	}
	if ex, ok := be.(Exclusive); ok {
		unlock, err := ex.Lock()
		if err != nil {
			return err
		}
		defer unlock()
	}
	stdout, stderr := opts.Stdout, opts.Stderr
	if stdout == nil {
		stdout = os.Stdout
	}
	if stderr == nil {
		stderr = os.Stderr
	}
	label := opts.Label
	if label == "" {
		label = s.Image
	}
	if sv, ok := be.(Solver); ok {
		if err := sv.Solve(ctx, s, stdout, stderr); err != nil {
			if ctx.Err() != nil {
				err = context.Cause(ctx)
			}
			return fmt.Errorf("building %s failed: %w", label, err)
		}
		return nil
	}
	run := opts.Run
	if run == nil {
		run = Exec(stdout, stderr)
	}
	for _, cmd := range cmds {
		if err := run(ctx, cmd); err != nil {
			if ctx.Err() != nil {
				err = context.Cause(ctx)
			}
			return fmt.Errorf("building %s failed: %s: %w", label, cmd, err)
		}
	}
	return nil
}

// Exclusive is a Backend of which one build at a time may run here: Image
// holds Lock while it builds.
type Exclusive interface {
	Lock() (unlock func(), err error)
}

// ErrKanikoBusy is Kaniko's Lock error when another Kaniko build holds the
// lock of this container.
var ErrKanikoBusy = errors.New("another Kaniko build is running in this container; Kaniko builds one image at a time per container (run Skaffold with concurrency 1, as cwlbuild generate writes for the kaniko runtime)")

// Lock makes sure one Kaniko executor runs at a time here: the
// executor rewrites the root filesystem of the container it runs in, so two
// at once (a CI job's parallel builds in the Kaniko image) corrupt each
// other's images. It does not wait: a second build fails with
// ErrKanikoBusy.
func (Kaniko) Lock() (unlock func(), err error) {
	dir := os.TempDir()
	if fi, err := os.Stat("/kaniko"); err == nil && fi.IsDir() {
		dir = "/kaniko"
	}
	unlock, err = filelock.TryLock(filepath.Join(dir, ".cwlbuild-kaniko.lock"))
	if errors.Is(err, filelock.ErrBusy) {
		return nil, ErrKanikoBusy
	}
	return unlock, err
}
