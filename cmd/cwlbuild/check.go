package main

import (
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/eoap/cwlbuild/builder"
	"github.com/eoap/cwlbuild/cwlpatch"
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
	proj, err := loadProject(c, c.String("file"), allChecks)
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
		for _, e := range cwlpatch.CheckProject(proj) {
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
