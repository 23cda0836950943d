package main

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/eoap/cwlbuild/builder"
	"github.com/eoap/cwlbuild/cwltest"
	"github.com/eoap/cwlbuild/internal/atomicfile"
	"github.com/eoap/cwlbuild/internal/shell"
)

func testCommand() *cli.Command {
	return &cli.Command{
		Name:      "test",
		Usage:     "run the CWL tests project.toml declares, with cwltool or Calrissian",
		UsageText: "cwlbuild test [-f project.toml] [--tool NAME]... [--workflow INDEX|PATH]... [--name TEST]... [--suite FILE]... [--id ID]... [--tags TAG,...] [--exclude-tags TAG,...] [--engine cluster|local] [--cluster-mode auto|pod|job] [--keep] [--dry-run] [--keep-going] [--junit FILE] [--markdown FILE]",
		Description: `Without selectors: every tool test in file order, then every workflow test.
Each test's params are written as YAML into its own volume (execution.paths.volume,
created if missing; default .cwlbuild/tests/ID), under a name no other test uses.
local runs cwltool (--podman when [build.local] runtime = "podman"). cluster runs
Calrissian with the test's execution.cluster options, in one of two modes:
  pod  in a pod of the cluster with calrissian installed (a code-server or Jupyter
       pod): calrissian runs here, on the volume mounted here;
  job  from outside the cluster (a kubeconfig): each test runs as a Kubernetes Job
       of [build.calrissian] image, through cwlbuild-calrissian; the CWL and the
       params' files are staged into a ReadWriteMany claim, one line is printed per
       tool pod, and the outputs, stdout, stderr, usage report and tool logs are
       copied back into the test's volume. The Job, its pods and a claim it made are
       deleted afterwards, or kept (--keep, or on failure) with the command that
       shows them.
auto (the default) is pod inside a pod with calrissian on PATH, job otherwise.

Suites in cwltest's format ([[tests.suites]] path, or --suite FILE) run after
project.toml's own tests, each case as one: its tool (FILE#ID, relative to the
suite) must be a CWL file project.toml names, whose images were built and pinned;
its job file is read, its inputs checked as a test's params are; its output is
matched as expect is; should_fail and tags as cwltest has them. A published suite
naming the released CWL by URL maps it to the package's file with urls in its
[[tests.suites]] entry. --suite FILE runs only that suite's cases; --id, --tags
and --exclude-tags select among all tests (cwltest's options).
Commands are argv, never shell strings: values with spaces, quotes or $(...) are
passed literally.

--junit FILE also writes the results as JUnit XML, whether they passed or not: one
testcase per test with its time, the failure, and the end of its stdout and stderr
(64 KiB each); a test that did not run is skipped. GitLab shows it as a test report
(artifacts: reports: junit), GitHub through a test-report action.

Examples:
   cwlbuild test                              # everything, engine from [build] engine
   cwlbuild test --tool crop --engine local   # crop's tests with cwltool
   cwlbuild test --engine cluster --keep      # Calrissian Jobs, kept to look at
   cwlbuild test --workflow 0 --dry-run       # print the commands, run nothing
   cwlbuild test --keep-going                 # run all, report every failure
   cwlbuild test --suite tests/suite.yaml --tags unit   # a cwltest suite's unit cases
   cwlbuild test -k --junit report.xml        # and a JUnit report for GitLab or GitHub
   cwlbuild test -k --markdown "$GITHUB_STEP_SUMMARY.part"   # a table for a CI job summary`,
		Flags: []cli.Flag{
			projectFlag(),
			&cli.StringSliceFlag{Name: "tool", Usage: "run the tests of tool `NAME` (repeatable)"},
			&cli.StringSliceFlag{Name: "workflow", Usage: "run the tests of workflow `INDEX` (0-based) or PATH (repeatable)"},
			&cli.StringSliceFlag{Name: "name", Usage: "run only tests named `TEST` (repeatable)"},
			&cli.StringSliceFlag{Name: "suite", Usage: "run the cases of the cwltest suite `FILE` (repeatable)"},
			&cli.StringSliceFlag{Name: "id", Usage: "run only the test `ID`: a suite case's id, or a test's as the summary prints it (repeatable)"},
			&cli.StringSliceFlag{Name: "tags", Usage: "run only tests with one of the tags `TAG,...` (repeatable)"},
			&cli.StringSliceFlag{Name: "exclude-tags", Usage: "leave out tests with one of the tags `TAG,...` (repeatable)"},
			&cli.StringFlag{Name: "engine", Usage: "cluster (calrissian) or local (cwltool); default: [build] engine"},
			&cli.StringFlag{Name: "cluster-mode", Value: cwltest.ModeAuto, Usage: "how the cluster engine runs Calrissian: pod (here, in a pod), job (a Job, from outside), or auto"},
			&cli.BoolFlag{Name: "keep", Usage: "keep each test's Job, pods and claim in the cluster after a success"},
			&cli.BoolFlag{Name: "dry-run", Usage: "print each command, shell-quoted; write and run nothing"},
			&cli.BoolFlag{Name: "keep-going", Aliases: []string{"k"}, Usage: "run the remaining tests after a failure"},
			&cli.StringFlag{Name: "junit", Usage: "also write the results as JUnit XML to `FILE`"},
			&cli.StringFlag{Name: "markdown", Usage: "also write the results as a Markdown table to `FILE` (a CI job summary: the Action appends it to GitHub's)"},
		},
		Action: runTests,
	}
}

func runTests(c *cli.Context) error {
	opts := cwlChecks
	opts.ConfineTestVolumes = !c.Bool("dry-run") // a dry run writes nothing
	var suites []string
	for _, f := range c.StringSlice("suite") {
		abs, err := filepath.Abs(f)
		if err != nil {
			return cli.Exit(fmt.Sprintf("cwlbuild test: --suite %s: %v", f, err), 2)
		}
		suites = append(suites, abs)
	}
	opts.Suites = suites
	proj, err := loadProject(c, c.String("file"), opts)
	if err != nil {
		return cli.Exit(err.Error(), 1)
	}
	engine := proj.Engine
	if e := c.String("engine"); e != "" {
		engine = builder.Engine(e)
	}
	sel := cwltest.Selector{
		Tools: c.StringSlice("tool"), Workflows: c.StringSlice("workflow"), Names: c.StringSlice("name"),
		Suites: suites, IDs: c.StringSlice("id"), Tags: c.StringSlice("tags"), ExcludeTags: c.StringSlice("exclude-tags"),
	}
	mode := c.String("cluster-mode")
	switch mode {
	case cwltest.ModeAuto, cwltest.ModePod, cwltest.ModeJob:
	default:
		return cli.Exit(fmt.Sprintf("cwlbuild test: --cluster-mode %q: want auto, pod or job", mode), 2)
	}
	runs, err := cwltest.PlanAll(proj, sel, cwltest.Options{Engine: engine, DryRun: c.Bool("dry-run"), Mode: mode, Keep: c.Bool("keep")})
	if err != nil {
		return cli.Exit("cwlbuild test: "+err.Error(), 1)
	}
	for _, flag := range []string{"junit", "markdown"} {
		// Found out before the tests run, not after.
		if f := c.String(flag); f != "" {
			if st, err := os.Stat(filepath.Dir(f)); err != nil || !st.IsDir() {
				return cli.Exit(fmt.Sprintf("cwlbuild test: --%s %s: no directory %s to write it in", flag, f, filepath.Dir(f)), 2)
			}
		}
	}
	if c.Bool("dry-run") {
		for _, r := range runs {
			fmt.Fprintf(c.App.Writer, "cd %s && %s\n", shell.Quote(r.Dir), r.Argv)
			if r.Job != nil {
				// What the Job would run: the spec the command reads.
				spec := strings.TrimRight(string(r.Job.SpecJSON()), "\n")
				fmt.Fprintf(c.App.Writer, "# %s:\n# %s\n", r.Job.SpecFile, strings.ReplaceAll(spec, "\n", "\n# "))
			}
		}
		return nil
	}
	results, err := cwltest.RunAll(c.Context, runs, cwltest.RunOptions{KeepGoing: c.Bool("keep-going"), Progress: c.App.ErrWriter})
	cwltest.WriteSummary(c.App.Writer, runs, results)
	suite := cmp.Or(proj.Name, "cwlbuild test")
	for _, rep := range []struct {
		flag, what string
		write      func(io.Writer, string, []*cwltest.Run, []cwltest.Result) error
	}{{"junit", "JUnit XML", cwltest.WriteJUnit}, {"markdown", "a Markdown table", cwltest.WriteMarkdown}} {
		f := c.String(rep.flag)
		if f == "" {
			continue
		}
		var report bytes.Buffer
		if werr := rep.write(&report, suite, runs, results); werr != nil {
			return cli.Exit("cwlbuild test: --"+rep.flag+": "+werr.Error(), 1)
		}
		if werr := atomicfile.Write(f, report.Bytes(), 0o644); werr != nil {
			return cli.Exit("cwlbuild test: --"+rep.flag+": "+werr.Error(), 1)
		}
		fmt.Fprintf(c.App.ErrWriter, "wrote %s: %d tests, %s\n", f, len(runs), rep.what)
	}
	if err != nil {
		return cli.Exit(err.Error(), 1)
	}
	fmt.Fprintf(c.App.Writer, "%d tests passed\n", len(results))
	return nil
}
