// Package cliapp runs the urfave/cli apps of cwlbuild and cwlpatch the same
// way from main and from in-process tests: an error's exit code and message
// come from cli.Exit when the command chose them, else a fallback code.
package cliapp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/eoap/cwlbuild/internal/atomicfile"
	"github.com/eoap/cwlbuild/internal/logtext"
)

// Outcome is the exit code and the message to print for an app's error.
func Outcome(app *cli.App, err error, fallback int) (int, string) {
	if err == nil {
		return 0, ""
	}
	var ec cli.ExitCoder
	if errors.As(err, &ec) {
		return ec.ExitCode(), ec.Error()
	}
	return fallback, fmt.Sprintf("%s: %v", app.Name, err)
}

// Main runs app on the process's arguments and exits with its code.
//
// SIGINT and SIGTERM do not kill the process outright: the first one ends
// the context the command runs with (its cause is the signal), so the
// command stops at its next safe point, removes what it staged and says so;
// a child it runs gets the same signal (see Signal). A second signal exits
// at once, after removing the staged files.
func Main(app *cli.App, fallback int) {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		sig := <-sigs
		cancel(Interrupted{sig})
		sig = <-sigs
		atomicfile.RemoveStaged()
		fmt.Fprintf(os.Stderr, "%s: %v again: stopping now\n", app.Name, sig)
		os.Exit(128 + int(sig.(syscall.Signal)))
	}()
	// Every line the command writes, and the children whose output it
	// relays, passes logtext: a package's names and a build's output never
	// start a CI command or reach the terminal as escape sequences.
	stdout, stderr := logtext.NewWriter(os.Stdout), logtext.NewWriter(os.Stderr)
	stdout.Max = 0
	app.Writer, app.ErrWriter = stdout, stderr
	// Main prints the error itself, through stderr (urfave/cli's own
	// handler writes to os.Stderr and exits before the flush).
	app.ExitErrHandler = func(*cli.Context, error) {}
	code, msg := Outcome(app, app.RunContext(ctx, FlagsFirst(app, os.Args)), fallback)
	atomicfile.RemoveStaged()
	stdout.Flush()
	if msg != "" {
		fmt.Fprintln(stderr, msg)
	}
	stderr.Flush()
	os.Exit(code)
}

// Interrupted is the cause of a context ended by a signal.
type Interrupted struct{ Sig os.Signal }

func (i Interrupted) Error() string { return "interrupted by " + i.Sig.String() }

// ChildStopTimeout is how long a child process has, after the signal it was
// passed on, to stop its own containers or pods before it is killed.
var ChildStopTimeout = 30 * time.Second

// PassSignals makes cmd (built with exec.CommandContext(ctx, ...)) receive
// the signal that ends ctx instead of SIGKILL, and wait ChildStopTimeout for
// it before killing it.
func PassSignals(ctx context.Context, cmd *exec.Cmd) {
	cmd.Cancel = func() error { return cmd.Process.Signal(Signal(ctx)) }
	cmd.WaitDelay = ChildStopTimeout
}

// Signal is the signal that ended ctx, or SIGTERM when it ended otherwise:
// what to pass on to a child process.
func Signal(ctx context.Context) os.Signal {
	var i Interrupted
	if errors.As(context.Cause(ctx), &i) {
		return i.Sig
	}
	return syscall.SIGTERM
}

// Run runs app in-process with stdin and returns stdout, stderr (ending with
// the error message, as Main would print it) and the exit code.
func Run(app *cli.App, fallback int, stdin string, args ...string) (string, string, int) {
	var out, errOut bytes.Buffer
	app.Reader = strings.NewReader(stdin)
	app.Writer, app.ErrWriter = &out, &errOut
	code, msg := Outcome(app, app.Run(FlagsFirst(app, append([]string{app.Name}, args...))), fallback)
	errOut.WriteString(msg)
	return out.String(), errOut.String(), code
}

// release is the version a release build names (go tool task dist sets it
// with -ldflags -X): a build from a checkout records no module version.
var release string

// Version is the program's version for --version: the release's tag, else
// the module version `go install module@VERSION` recorded ("(devel)" for a
// build from a checkout), and the commit a checkout build was made from,
// when Go recorded it.
func Version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	return versionOf(bi, release)
}

// versionOf is Version for the build information Go recorded.
func versionOf(bi *debug.BuildInfo, release string) string {
	v := bi.Main.Version
	if release != "" {
		v = release
	}
	if v == "" {
		v = "(devel)"
	}
	var rev, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = ", modified"
			}
		}
	}
	if rev != "" {
		v += " (commit " + rev + modified + ")"
	}
	return v
}

// FlagsFirst moves the flags given after the arguments of an app without
// subcommands (`cwlpatch build.json --dry-run`) before them, since urfave/cli
// stops reading flags at the first argument. A flag that takes a value
// keeps it; everything after "--" stays an argument.
func FlagsFirst(app *cli.App, args []string) []string {
	if len(app.Commands) > 0 || len(args) < 2 {
		return args
	}
	takesValue := map[string]bool{}
	for _, f := range app.Flags {
		_, isBool := f.(*cli.BoolFlag)
		for _, n := range f.Names() {
			takesValue[n] = !isBool
		}
	}
	flags, rest := []string{args[0]}, []string{}
	for i := 1; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			rest = append(rest, args[i:]...)
			i = len(args)
		case len(a) > 1 && a[0] == '-':
			flags = append(flags, a)
			name := strings.TrimLeft(a, "-")
			if !strings.Contains(name, "=") && takesValue[name] && i+1 < len(args) {
				i++
				flags = append(flags, args[i])
			}
		default:
			rest = append(rest, a)
		}
	}
	return append(flags, rest...)
}
