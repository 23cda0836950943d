package build

import (
	"context"
	"io"
	"os"
	"os/exec"

	"github.com/eoap/cwlbuild/internal/cliapp"
)

// Runner runs one command of a build. Exec is the real one; a test swaps
// in one that records the commands, or fails on purpose.
type Runner func(ctx context.Context, cmd Command) error

// Exec runs each command with its output streaming to stdout and stderr.
// On a signal (ctx ended by cliapp) the build tool gets the same signal and
// time to stop (buildah and podman clean up their containers), then it is
// killed.
func Exec(stdout, stderr io.Writer) Runner {
	return func(ctx context.Context, cmd Command) error {
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		x := exec.CommandContext(ctx, cmd[0], cmd[1:]...)
		cliapp.PassSignals(ctx, x)
		x.Stdin = nil
		x.Stdout, x.Stderr = stdout, stderr
		x.Env = os.Environ()
		return x.Run()
	}
}
