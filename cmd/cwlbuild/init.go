package main

import (
	_ "embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"
)

// userTaskfile is the Taskfile `cwlbuild init` writes into a package.
//
//go:embed init/Taskfile.yaml
var userTaskfile []byte

func initCommand() *cli.Command {
	return &cli.Command{
		Name:      "init",
		Usage:     "write a Taskfile.yaml with the build chain into a package",
		UsageText: "cwlbuild init [-f project.toml] [--print]",
		Description: `Writes Taskfile.yaml beside project.toml: the tasks build, build-local, build-ttl,
prepare, update, release, check, test-all, test-tool and test-workflow, calling cwlbuild,
cwlpatch and skaffold from PATH in the package's directory. Nothing is written beside
any Taskfile go-task would read (Taskfile.yml, Taskfile.yaml, Taskfile.dist.yml, ...).

With --print it writes that Taskfile on standard output instead, and reads nothing: a CI
job runs it from outside the package (task -t FILE -d PACKAGE), so that no file of the
package, its own Taskfile included, decides what runs beside the job's secrets.

Examples:
   cwlbuild init && task build
   cwlbuild init --print > "$RUNNER_TEMP/Taskfile.yaml" && task -t "$RUNNER_TEMP/Taskfile.yaml" -d . build`,
		Flags:  []cli.Flag{projectFlag(), &cli.BoolFlag{Name: "print", Usage: "write the Taskfile on standard output; read and write no file"}},
		Action: runInit,
	}
}

func runInit(c *cli.Context) error {
	if c.Bool("print") {
		_, err := c.App.Writer.Write(userTaskfile)
		return err
	}
	if _, err := loadProject(c, c.String("file"), allChecks); err != nil {
		return cli.Exit(err.Error(), 1)
	}
	dir := filepath.Dir(c.String("file"))
	// Every name go-task reads (v3.45, in its order): beside any of them,
	// a new Taskfile.yaml would shadow the package's own or be shadowed.
	for _, name := range []string{"Taskfile.yml", "taskfile.yml", "Taskfile.yaml", "taskfile.yaml",
		"Taskfile.dist.yml", "taskfile.dist.yml", "Taskfile.dist.yaml", "taskfile.dist.yaml"} {
		if _, err := os.Lstat(filepath.Join(dir, name)); err == nil {
			return cli.Exit(fmt.Sprintf("cwlbuild init: %s exists, and go-task reads one Taskfile per directory: nothing written (merge the tasks of `cwlbuild init` into it by hand)", filepath.Join(dir, name)), 1)
		}
	}
	out := filepath.Join(dir, "Taskfile.yaml")
	// O_EXCL: a Taskfile created meanwhile is not overwritten either.
	f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return cli.Exit(fmt.Sprintf("cwlbuild init: %s exists: not overwritten", out), 1)
	} else if err != nil {
		return cli.Exit(err.Error(), 1)
	}
	if _, err := f.Write(userTaskfile); err != nil {
		f.Close()
		os.Remove(out)
		return cli.Exit(err.Error(), 1)
	}
	if err := f.Close(); err != nil {
		return cli.Exit(err.Error(), 1)
	}
	fmt.Fprintf(c.App.ErrWriter, "wrote %s: run `task build` there\n", out)
	return nil
}
