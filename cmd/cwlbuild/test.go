package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/eoap/cwlbuild/builder"
	"github.com/eoap/cwlbuild/internal/cwltest"
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
	engine := c.String("engine")
	if engine == "" {
		engine = proj.Build.Engine
	}
	cases, err := cwltest.Select(proj, cwltest.Selector{
		Tools: c.StringSlice("tool"), Workflows: c.StringSlice("workflow"), Names: c.StringSlice("name"),
	})
	if err != nil {
		return cli.Exit("cwlbuild test: "+err.Error(), 1)
	}
	var runs []*cwltest.Run
	for _, tc := range cases {
		r, err := cwltest.Plan(proj, tc, cwltest.Options{Engine: engine, DryRun: c.Bool("dry-run")})
		if err != nil {
			return cli.Exit("cwlbuild test: "+err.Error(), 1)
		}
		runs = append(runs, r)
	}
	if c.Bool("dry-run") {
		for _, r := range runs {
			fmt.Fprintf(c.App.Writer, "cd %s && %s\n", builder.ShellQuote(r.Dir), r.Argv)
		}
		return nil
	}
	var results []cwltest.Result
	failed := 0
	for i, r := range runs {
		fmt.Fprintf(c.App.ErrWriter, "[%d/%d] %s (%s): running %s\n", i+1, len(runs), r.Case.Name(), r.Case.ID, r.Argv[0])
		res := cwltest.Execute(c.Context, r)
		results = append(results, res)
		if res.Err != nil {
			failed++
			fmt.Fprintf(c.App.ErrWriter, "[%d/%d] %s: FAILED after %s: %v\n", i+1, len(runs), r.Case.Name(), res.Duration.Round(time.Millisecond), res.Err)
			if tail := r.Tail(15); tail != "" {
				fmt.Fprintf(c.App.ErrWriter, "    last lines of %s:\n    %s\n", r.Stderr, strings.ReplaceAll(tail, "\n", "\n    "))
			}
			if !c.Bool("keep-going") {
				break
			}
			continue
		}
		fmt.Fprintf(c.App.ErrWriter, "[%d/%d] %s: ok in %s, outputs in %s\n", i+1, len(runs), r.Case.Name(), res.Duration.Round(time.Millisecond), r.Outdir)
	}
	fmt.Fprintln(c.App.Writer, "\nSUMMARY")
	for _, res := range results {
		status := "ok"
		if res.Err != nil {
			status = "FAILED"
		}
		fmt.Fprintf(c.App.Writer, "%-7s %-32s %-22s %s\n", status, res.Run.Case.Name(), res.Run.Case.ID, res.Duration.Round(time.Millisecond))
	}
	for _, r := range runs[len(results):] {
		fmt.Fprintf(c.App.Writer, "%-7s %-32s %-22s\n", "skipped", r.Case.Name(), r.Case.ID)
	}
	if failed > 0 {
		return cli.Exit(fmt.Sprintf("%d of %d tests failed", failed, len(runs)), 1)
	}
	fmt.Fprintf(c.App.Writer, "%d tests passed\n", len(results))
	return nil
}
