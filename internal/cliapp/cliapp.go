// Package cliapp runs the urfave/cli apps of cwlbuild and cwlpatch the same
// way from main and from in-process tests: an error's exit code and message
// come from cli.Exit when the command chose them, else a fallback code.
package cliapp

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/urfave/cli/v2"
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
func Main(app *cli.App, fallback int) {
	code, msg := Outcome(app, app.Run(os.Args), fallback)
	if msg != "" {
		fmt.Fprintln(os.Stderr, msg)
	}
	os.Exit(code)
}

// Run runs app in-process with stdin and returns stdout, stderr (ending with
// the error message, as Main would print it) and the exit code.
func Run(app *cli.App, fallback int, stdin string, args ...string) (string, string, int) {
	var out, errOut bytes.Buffer
	app.Reader = strings.NewReader(stdin)
	app.Writer, app.ErrWriter = &out, &errOut
	code, msg := Outcome(app, app.Run(append([]string{app.Name}, args...)), fallback)
	errOut.WriteString(msg)
	return out.String(), errOut.String(), code
}
