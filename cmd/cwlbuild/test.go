package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/eoap/cwlbuild/builder"
	"github.com/eoap/cwlbuild/internal/cwltest"
	"github.com/eoap/cwlbuild/internal/shell"
)

func testCommand() *cli.Command {
	return &cli.Command{
		Name:      "test",
		Usage:     "run the CWL tests project.toml declares, with cwltool or Calrissian",
		UsageText: "cwlbuild test [-f project.toml] [--tool NAME]... [--workflow INDEX|PATH]... [--name TEST]... [--engine cluster|local] [--dry-run] [--keep-going]",
		Description: `Without selectors: every tool test in file order, then every workflow test.
Each test's params are written as YAML into its own volume (execution.paths.volume,
created if missing; default .cwlbuild/tests/ID), under a name no other test uses.
cluster runs calrissian with the test's execution.cluster options; local runs
cwltool (--podman when [build.local] runtime = "podman"). Commands are argv, never
shell strings: values with spaces, quotes or $(...) are passed literally.

Examples:
   cwlbuild test                              # everything, engine from [build] engine
   cwlbuild test --tool crop --engine local   # crop's tests with cwltool
   cwlbuild test --workflow 0 --dry-run       # print the commands, run nothing
   cwlbuild test --keep-going                 # run all, report every failure`,
		Flags: []cli.Flag{
			projectFlag(),
			&cli.StringSliceFlag{Name: "tool", Usage: "run the tests of tool `NAME` (repeatable)"},
			&cli.StringSliceFlag{Name: "workflow", Usage: "run the tests of workflow `INDEX` (0-based) or PATH (repeatable)"},
			&cli.StringSliceFlag{Name: "name", Usage: "run only tests named `TEST` (repeatable)"},
			&cli.StringFlag{Name: "engine", Usage: "cluster (calrissian) or local (cwltool); default: [build] engine"},
			&cli.BoolFlag{Name: "dry-run", Usage: "print each command, shell-quoted; write and run nothing"},
			&cli.BoolFlag{Name: "keep-going", Aliases: []string{"k"}, Usage: "run the remaining tests after a failure"},
		},
		Action: runTests,
	}
}

func runTests(c *cli.Context) error {
	opts := cwlChecks
	opts.ConfineTestVolumes = !c.Bool("dry-run") // a dry run writes nothing
	proj, err := loadProject(c, c.String("file"), opts)
	if err != nil {
		return cli.Exit(err.Error(), 1)
	}
	engine := proj.Engine
	if e := c.String("engine"); e != "" {
		engine = builder.Engine(e)
	}
	sel := cwltest.Selector{Tools: c.StringSlice("tool"), Workflows: c.StringSlice("workflow"), Names: c.StringSlice("name")}
	runs, err := cwltest.PlanAll(proj, sel, cwltest.Options{Engine: engine, DryRun: c.Bool("dry-run")})
	if err != nil {
		return cli.Exit("cwlbuild test: "+err.Error(), 1)
	}
	if c.Bool("dry-run") {
		for _, r := range runs {
			fmt.Fprintf(c.App.Writer, "cd %s && %s\n", shell.Quote(r.Dir), r.Argv)
		}
		return nil
	}
	results, err := cwltest.RunAll(c.Context, runs, cwltest.RunOptions{KeepGoing: c.Bool("keep-going"), Progress: c.App.ErrWriter})
	cwltest.WriteSummary(c.App.Writer, runs, results)
	if err != nil {
		return cli.Exit(err.Error(), 1)
	}
	fmt.Fprintf(c.App.Writer, "%d tests passed\n", len(results))
	return nil
}
