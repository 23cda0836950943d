package cliapp

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime/debug"
	"strings"
	"syscall"
	"testing"

	"github.com/urfave/cli/v2"
)

func TestOutcome(t *testing.T) {
	app := &cli.App{Name: "prog"}
	for _, tc := range []struct {
		err  error
		code int
		msg  string
	}{
		{nil, 0, ""},
		{cli.Exit("bad input", 3), 3, "bad input"},
		{fmt.Errorf("wrapped: %w", cli.Exit("inner", 4)), 4, "inner"},
		{errors.New("boom"), 2, "prog: boom"},
	} {
		t.Run(fmt.Sprint(tc), func(t *testing.T) {
			code, msg := Outcome(app, tc.err, 2)
			if code != tc.code || msg != tc.msg {
				t.Errorf("Outcome(%v) = %d %q, want %d %q", tc.err, code, msg, tc.code, tc.msg)
			}
		})
	}
}

// TestSignal: the signal that ended a context is what a child gets;
// SIGTERM when it ended for another reason.
func TestSignal(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(Interrupted{syscall.SIGINT})
	if got := Signal(ctx); got != syscall.SIGINT {
		t.Errorf("interrupted: %v", got)
	}
	ctx2, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if got := Signal(ctx2); got != syscall.SIGTERM {
		t.Errorf("cancelled: %v", got)
	}
	if got := (Interrupted{syscall.SIGINT}).Error(); got != "interrupted by interrupt" {
		t.Errorf("Error() = %q", got)
	}
}

// TestPassSignals: a child started with the context gets the signal that
// ended it, not SIGKILL.
func TestPassSignals(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	cmd := exec.CommandContext(ctx, "sleep", "30")
	PassSignals(ctx, cmd)
	if cmd.WaitDelay != ChildStopTimeout {
		t.Errorf("WaitDelay %v", cmd.WaitDelay)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	cancel(Interrupted{syscall.SIGINT})
	cmd.Wait()
	ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ws.Signaled() || ws.Signal() != syscall.SIGINT {
		t.Errorf("the child ended with %v, want SIGINT", cmd.ProcessState)
	}
}

func TestFlagsFirst(t *testing.T) {
	app := &cli.App{Flags: []cli.Flag{
		&cli.StringFlag{Name: "file", Aliases: []string{"f"}},
		&cli.BoolFlag{Name: "dry-run"},
	}}
	for _, tc := range []struct{ in, want string }{
		{"p", "p"},
		{"p a", "p a"},
		{"p a --dry-run", "p --dry-run a"},
		{"p a -f x.toml b", "p -f x.toml a b"},
		{"p a --file x.toml", "p --file x.toml a"},
		{"p a --file=x.toml", "p --file=x.toml a"},
		{"p a --dry-run b", "p --dry-run a b"},
		{"p a -f", "p -f a"},
		{"p a - b", "p a - b"},
		{"p a -- --dry-run b", "p a -- --dry-run b"},
		{"p --dry-run -- a", "p --dry-run -- a"},
	} {
		t.Run(fmt.Sprint(tc), func(t *testing.T) {
			if got := strings.Join(FlagsFirst(app, strings.Fields(tc.in)), " "); got != tc.want {
				t.Errorf("FlagsFirst(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
	withCommands := &cli.App{Commands: []*cli.Command{{Name: "x"}}, Flags: app.Flags}
	if got := strings.Join(FlagsFirst(withCommands, strings.Fields("p x a --dry-run")), " "); got != "p x a --dry-run" {
		t.Errorf("an app with commands: %q", got)
	}
}

// TestRun: stdin in, stdout and stderr out, the error's message last on
// stderr, its exit code returned.
func TestRun(t *testing.T) {
	// As both programs do: the exit code is returned, not exited with.
	app := &cli.App{Name: "prog", ExitErrHandler: func(*cli.Context, error) {}, Action: func(c *cli.Context) error {
		var in strings.Builder
		buf := make([]byte, 64)
		n, _ := c.App.Reader.Read(buf)
		in.Write(buf[:n])
		fmt.Fprintf(c.App.Writer, "out:%s:%s", in.String(), c.Args().First())
		fmt.Fprint(c.App.ErrWriter, "warning\n")
		return cli.Exit("failed", 5)
	}}
	stdout, stderr, code := Run(app, 1, "in", "arg")
	if stdout != "out:in:arg" || stderr != "warning\nfailed" || code != 5 {
		t.Errorf("Run: %q %q %d", stdout, stderr, code)
	}
}

// TestVersionOf: the module version, "(devel)" without one, a release
// build's tag over either, and the commit with ", modified" for a dirty
// checkout.
func TestVersionOf(t *testing.T) {
	info := func(version string, settings ...string) *debug.BuildInfo {
		bi := &debug.BuildInfo{Main: debug.Module{Version: version}}
		for i := 0; i+1 < len(settings); i += 2 {
			bi.Settings = append(bi.Settings, debug.BuildSetting{Key: settings[i], Value: settings[i+1]})
		}
		return bi
	}
	for _, tc := range []struct {
		bi      *debug.BuildInfo
		release string
		want    string
	}{
		{info("v1.2.0"), "", "v1.2.0"},
		{info(""), "", "(devel)"},
		{info("(devel)", "vcs.revision", "cafe", "vcs.modified", "false"), "", "(devel) (commit cafe)"},
		{info("(devel)", "vcs.revision", "cafe", "vcs.modified", "true"), "", "(devel) (commit cafe, modified)"},
		{info("v1.2.0", "vcs.modified", "true"), "", "v1.2.0"},
		{info("(devel)", "vcs.revision", "cafe", "vcs.modified", "false"), "v1.3.0", "v1.3.0 (commit cafe)"},
	} {
		t.Run(fmt.Sprint(tc), func(t *testing.T) {
			if got := versionOf(tc.bi, tc.release); got != tc.want {
				t.Errorf("versionOf(%+v) = %q, want %q", tc.bi, got, tc.want)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	// A test binary has no module version of its own.
	if v := Version(); !strings.HasPrefix(v, "(devel)") && !strings.HasPrefix(v, "v") {
		t.Errorf("Version() = %q", v)
	}
}

// TestMainFiltersLines: everything a command run by Main writes, itself or
// through a child it relays, reaches the log a line at a time through
// logtext: a name from a package that holds "\n::error::" starts no
// workflow command, and no escape sequence reaches the terminal. (The
// command runs in a child process: Main exits.)
func TestMainFiltersLines(t *testing.T) {
	if os.Getenv("CLIAPP_MAIN_CHILD") == "1" {
		app := &cli.App{Name: "hostile", Action: func(c *cli.Context) error {
			name := "t1\n::error title=cwlbuild::all tests passed\x1b]0;owned\a"
			fmt.Fprintf(c.App.Writer, "[1/1] %s: ok\n", name)
			fmt.Fprintf(c.App.ErrWriter, "progress\r##vso[task.complete result=Succeeded]\n")
			child := exec.Command("sh", "-c", `printf '::add-mask::secret\n  ::set-output name=x::y\n\033[2Kdone'`)
			child.Stdout, child.Stderr = c.App.Writer, c.App.ErrWriter
			if err := child.Run(); err != nil {
				return err
			}
			return cli.Exit("failed: \n::error::forged", 3)
		}}
		os.Args = []string{"hostile"}
		Main(app, 1)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestMainFiltersLines$")
	cmd.Env = append(os.Environ(), "CLIAPP_MAIN_CHILD=1")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 3 {
		t.Fatalf("exit %v, want 3\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) != 8 {
		t.Errorf("%d lines, want 8:\n%s", len(lines), out)
	}
	for _, line := range lines {
		trim := strings.TrimLeft(line, " \t")
		if strings.HasPrefix(trim, "::") || strings.HasPrefix(trim, "##") || strings.Contains(line, "##vso[") || strings.ContainsAny(line, "\x1b\a\r") {
			t.Errorf("line %q can run a CI command or a terminal escape", line)
		}
	}
	if !strings.Contains(string(out), "done") || !strings.Contains(string(out), `\::add-mask::secret`) {
		t.Errorf("the lines are not all shown:\n%s", out)
	}
}
