package build

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"

	"github.com/eoap/cwlbuild/internal/cliapp"
)

// Runner runs one command of a build. Exec is the real one; a test swaps
// in one that records the commands, or fails on purpose.
type Runner func(ctx context.Context, cmd Command) error

// transientFaults are errors of the container runtimes that say nothing
// about the build and go away when it runs again: buildah's chroot
// isolation re-executes itself from a sealed memfd copy, and the kernel
// refuses the seal (EBUSY) while another task briefly holds a page of it.
var transientFaults = [][]byte{
	[]byte("sealing memfd copy: Device or resource busy"),
}

// Exec runs each command with its output streaming to stdout and stderr.
// On a signal (ctx ended by cliapp) the build tool gets the same signal and
// time to stop (buildah and podman clean up their containers), then it is
// killed. A command that failed with one of the runtimes' transient faults
// is run once more, saying so on stderr.
func Exec(stdout, stderr io.Writer) Runner {
	return func(ctx context.Context, cmd Command) error {
		err := execOnce(ctx, cmd, stdout, stderr)
		if fault := transient(err); fault != "" && ctx.Err() == nil {
			fmt.Fprintf(stderr, "cwlbuild: %s failed with a transient fault of the runtime (%s): running it once more\n", cmd[0], fault)
			err = execOnce(ctx, cmd, stdout, stderr)
		}
		return err
	}
}

// faultError is a failed run and the transient fault its stderr showed.
type faultError struct {
	error
	fault string
}

func (f faultError) Unwrap() error { return f.error }

func transient(err error) string {
	if f, ok := err.(faultError); ok {
		return f.fault
	}
	return ""
}

func execOnce(ctx context.Context, cmd Command, stdout, stderr io.Writer) error {
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	x := exec.CommandContext(ctx, cmd[0], cmd[1:]...)
	cliapp.PassSignals(ctx, x)
	x.Stdin = nil
	tail := &tailBuffer{max: 64 << 10}
	x.Stdout, x.Stderr = io.MultiWriter(stdout, tail), io.MultiWriter(stderr, tail)
	x.Env = os.Environ()
	err := x.Run()
	if err == nil {
		return nil
	}
	for _, f := range transientFaults {
		if bytes.Contains(tail.bytes(), f) {
			return faultError{err, string(f)}
		}
	}
	return err
}

// tailBuffer keeps the last max bytes written to it, from both streams.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
	max int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) bytes() []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]byte(nil), t.buf...)
}
