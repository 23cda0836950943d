package main

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/eoap/cwlbuild/builder"
	"github.com/eoap/cwlbuild/cwlpatch"
	"github.com/eoap/cwlbuild/skaffold"
)

func checkCommand() *cli.Command {
	return &cli.Command{
		Name:      "check",
		Usage:     "validate project.toml, build contexts, Dockerfiles and CWL references",
		UsageText: "cwlbuild check [-f project.toml]",
		Description: `Prints one line per problem and exits 1 if there is any.

Example:
   cwlbuild check -f project.toml`,
		Flags:  []cli.Flag{projectFlag()},
		Action: runCheck,
	}
}

func runCheck(c *cli.Context) error {
	// The CWL files are cwlpatch's to check (CheckProject): a missing one
	// then hides none of the problems of the others.
	opts := allChecks
	opts.SkipCWL = true
	proj, err := loadProject(c, c.String("file"), opts)
	problems := 0
	if err != nil {
		var errs builder.Errors
		if errors.As(err, &errs) {
			for _, e := range errs {
				fmt.Fprintln(c.App.Writer, e)
			}
			problems = len(errs)
		} else {
			fmt.Fprintln(c.App.Writer, err)
			problems = 1
		}
	} else {
		for _, w := range proj.PodImageWarnings() {
			fmt.Fprintln(c.App.ErrWriter, "warning:", w)
		}
		if w := skaffoldOnPath(c.Context); w != "" {
			fmt.Fprintln(c.App.ErrWriter, "warning:", w)
		}
		errs, warnings := cwlpatch.CheckProject(proj)
		if len(proj.Artifacts) > 0 {
			errs = append(errs, skaffold.CheckOutputs(proj, filepath.Join(filepath.Dir(proj.File), DefaultSkaffoldFile))...)
		}
		for _, w := range warnings {
			fmt.Fprintln(c.App.ErrWriter, "warning:", w)
		}
		for _, e := range errs {
			fmt.Fprintln(c.App.Writer, e)
			problems++
		}
	}
	if problems > 0 {
		return cli.Exit(fmt.Sprintf("%d problem(s) found", problems), 1)
	}
	fmt.Fprintf(c.App.Writer, "%s: ok (%d tools, %d workflows)\n", proj.File, len(proj.Artifacts), len(proj.Workflows))
	return nil
}

// skaffoldOnPath says when the skaffold on PATH cannot read the generated
// config: its `skaffold schema list` lacks the schema generate writes. No
// skaffold on PATH is fine (the chain runs the one go.mod pins).
func skaffoldOnPath(ctx context.Context) string {
	path, err := exec.LookPath("skaffold")
	if err != nil {
		return ""
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "schema", "list").Output()
	if err != nil {
		return fmt.Sprintf("%s schema list failed (%v): cannot tell whether it reads %s, the schema cwlbuild generate writes", path, err, skaffold.APIVersion)
	}
	for _, v := range strings.Fields(string(out)) {
		if v == skaffold.APIVersion {
			return ""
		}
	}
	return fmt.Sprintf("%s does not read %s, the schema cwlbuild generate writes: install Skaffold %s or newer", path, skaffold.APIVersion, skaffold.SchemaVersion())
}
