// Command cwlbuild turns a CWL application package's project.toml into
// container images: it writes the Skaffold config that builds one image per
// command-line tool, serves as Skaffold's custom builder, and runs the CWL
// tests the package declares.
package main

import (
	"context"
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/eoap/cwlbuild/builder"
	"github.com/eoap/cwlbuild/internal/cliapp"
)

func main() {
	cliapp.Main(newApp(), 1)
}

func newApp() *cli.App {
	return &cli.App{
		Name:  "cwlbuild",
		Usage: "build the container images of a CWL application package with Skaffold",
		Description: `cwlbuild reads project.toml and writes skaffold-auto.yaml, one artifact per
command-line tool, built in Kubernetes by Kaniko, locally, or to a TTL registry.

Examples:
   cwlbuild generate                      # project.toml -> skaffold-auto.yaml
   skaffold build -f skaffold-auto.yaml --file-output build.json
   cwlpatch build.json                    # pin every tool's DockerRequirement
   cwlbuild check                         # validate project.toml and its files`,
		Version:              cliapp.Version(),
		EnableBashCompletion: false,
		ExitErrHandler:       func(*cli.Context, error) {},
		Flags:                []cli.Flag{allowOutsideFlag()},
		Commands: withAllowOutside(
			initCommand(),
			generateCommand(),
			checkCommand(),
			pluginCommand(),
			tarCommand(),
			authCommand(),
			testCommand(),
			publishCommand(),
			signCommand(),
			attestCommand(),
			sbomCommand(),
			verifyCommand(),
			explainCommand(),
		),
	}
}

// allowOutsideFlag is --allow-outside-paths. It is accepted before the
// command and after it alike (`cwlbuild generate --allow-outside-paths`).
func allowOutsideFlag() cli.Flag {
	return &cli.BoolFlag{Name: "allow-outside-paths", EnvVars: []string{"CWLBUILD_ALLOW_OUTSIDE_PATHS"},
		Usage: "accept contexts and CWL paths outside the project directory (refused by default)"}
}

// allowOutside reads --allow-outside-paths wherever it was given: before
// the command or after it (each defines the flag, so a command's own unset
// flag would otherwise hide the app's).
func allowOutside(c *cli.Context) bool {
	for _, x := range c.Lineage() {
		if x.Bool("allow-outside-paths") {
			return true
		}
	}
	return false
}

func withAllowOutside(cmds ...*cli.Command) []*cli.Command {
	for _, c := range cmds {
		c.Flags = append(c.Flags, allowOutsideFlag())
	}
	return cmds
}

// projectFlag is the -f flag every subcommand shares.
func projectFlag() *cli.StringFlag {
	return &cli.StringFlag{
		Name:    "file",
		Aliases: []string{"f"},
		Value:   "project.toml",
		Usage:   "project file; paths in it are relative to its directory",
	}
}

// loadProject loads a project file with the app-wide options; opts says
// which checks the command does without (each validates what it uses). The
// warnings of the load are printed.
func loadProject(c *cli.Context, file string, opts builder.LoadOptions) (*builder.Plan, error) {
	opts.AllowOutsidePaths = allowOutside(c)
	p, err := builder.LoadContext(c.Context, file, opts)
	if err != nil {
		return nil, err
	}
	for _, w := range p.Warnings {
		fmt.Fprintln(c.App.ErrWriter, "warning:", w)
	}
	return p, nil
}

// Which checks each kind of command needs: building needs contexts, not the
// CWL; running tests needs the CWL, not the contexts.
var (
	buildChecks = builder.LoadOptions{SkipCWL: true, SkipTests: true}
	cwlChecks   = builder.LoadOptions{SkipContexts: true}
	allChecks   = builder.LoadOptions{}
)

// registryTimeoutFlag bounds a command that talks to registries: a
// registry that stops answering fails it within --timeout, naming the
// step, instead of hanging a release (each call also has connect and
// response timeouts of its own).
func registryTimeoutFlag() cli.Flag {
	return &cli.DurationFlag{Name: "timeout", Value: 10 * time.Minute, Usage: "give up after `DURATION` (every registry call also times out on its own)"}
}

// withRegistryTimeout is the command's context bounded by --timeout.
func withRegistryTimeout(c *cli.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(c.Context, c.Duration("timeout"))
}
