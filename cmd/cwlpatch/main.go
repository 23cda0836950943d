// Command cwlpatch pins every tool's DockerRequirement.dockerPull in a CWL
// application package to the image Skaffold just built, read from the build
// output `skaffold build -q` or `--file-output` wrote. It changes nothing
// else in the CWL files: comments, quoting, layout and JSON-ness stay.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/eoap/cwlbuild/builder"
	"github.com/eoap/cwlbuild/cwlpatch"
	"github.com/eoap/cwlbuild/internal/cliapp"
	"github.com/eoap/cwlbuild/internal/textdiff"
	"github.com/eoap/cwlbuild/skaffold/buildjson"
)

func main() {
	cliapp.Main(newApp(), 2)
}

func newApp() *cli.App {
	return &cli.App{
		Name:      "cwlpatch",
		Version:   cliapp.Version(),
		Usage:     "pin each tool's DockerRequirement to the image Skaffold built",
		UsageText: "cwlpatch [-f project.toml] [--dry-run] [--check] [--pin tag+digest|digest] BUILD_JSON|-\n   cwlpatch [-f project.toml] --image IMAGE    (Skaffold after-build hook)\n   cwlpatch [-f project.toml] --check [--format text|json]   (CI: is every tool pinned by digest?)",
		Description: `For each build in BUILD_JSON (what "skaffold build -q" or "--file-output" wrote),
finds the tool whose image it is and sets DockerRequirement.dockerPull to
repo:tag@sha256:... in every process that runs it: the processes its path
names (file.cwl#id, or a list of them), and every CommandLineTool with the
same id in each [[workflows]] file (packed workflows carry their own copies).
A DockerRequirement shared through a YAML anchor or an $import is pinned
once, when every process sharing it gets this image, and refused otherwise.
Only that scalar changes, or, when the process has no DockerRequirement, the
lines that add one. Every file is checked before any is written, and read
back to check every pin; each is replaced atomically. Running it twice
changes nothing. A CommandLineTool of a workflow whose every dockerPull names
a tool's repository (any tag, or none; anonymous inline ones too) is a copy of
that tool, and so is the copy "cwltool --pack" names after the tool's file
("tool.cwl", or "tool.cwl_2" for a second file of that name: the one whose
image is the tool's; none is an ambiguous id, refused).

Which image runs is read as cwltool reads it, in every context a workflow
runs a tool: requirements over hints, the last of several, a step's and the
enclosing workflows' requirements, classes spelt "cwl:DockerRequirement" or
as a full URI, dockerImageId over dockerPull. What it cannot read is an
error naming the step: a run: by URL, of a file missing or outside the
package. A dockerImageId beside the pin is refused.

--check fails when any CommandLineTool a workflow runs, built here or not,
runs an image without a digest in any context, when an enclosing workflow's
DockerRequirement overrides a pinned tool's hint (cwltool would run that),
and when cwltool and the CWL specification would run different images.

Examples:
   skaffold build -f skaffold-auto.yaml --file-output build.json
   cwlpatch build.json
   cwlpatch --dry-run build.json          # print the diff, write nothing
   skaffold build -q | cwlpatch -         # read the build output from stdin
   cwlpatch --pin digest build.json       # repo@sha256:... without the tag
   cwlpatch --check                       # exit 1 unless every CommandLineTool is pinned
   cwlpatch --check build.json            # exit 1 if patching would change a file
   cwlpatch --check --registry            # and if the registry lacks a pinned image
   cwlpatch --check --format json         # the problems as JSON diagnostics, for CI annotations

As a Skaffold after-build hook (SKAFFOLD_IMAGE carries a tag, not a digest;
the digest is read from the registry with the Docker config's credentials):
   hooks: {after: [{command: ["cwlpatch", "--image", "$SKAFFOLD_IMAGE"]}]}`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "file", Aliases: []string{"f"}, Value: "project.toml", Usage: "project file; paths in it are relative to its directory (default: project.toml here or in the nearest directory above)"},
			&cli.BoolFlag{Name: "dry-run", Aliases: []string{"n"}, Usage: "print a unified diff of what would change; write nothing"},
			&cli.BoolFlag{Name: "check", Usage: "write nothing; exit 1 if a file would change or a tool is not pinned by digest"},
			&cli.StringFlag{Name: "pin", Value: string(builder.PinTagDigest), Usage: "reference form: `tag+digest` (repo:tag@sha256:..., a latest tag dropped) or digest (repo@sha256:...)"},
			&cli.StringSliceFlag{Name: "image", Usage: "hook mode: pin the tool built as `IMAGE` (repo:tag), its digest read from the registry (default: $SKAFFOLD_IMAGE when no BUILD_JSON is given)"},
			&cli.BoolFlag{Name: "registry", Usage: "with --check: also ask the registry (Docker config credentials) for every pinned image, and fail on one it does not serve"},
			&cli.StringSliceFlag{Name: "insecure-registry", Usage: "hook mode and --registry: plain-HTTP `REGISTRY` besides loopback ones (default: the project's)"},
			&cli.BoolFlag{Name: "allow-outside-paths", EnvVars: []string{"CWLBUILD_ALLOW_OUTSIDE_PATHS"}, Usage: "accept CWL paths outside the project directory (refused by default)"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print only errors, warnings and diffs"},
			&cli.StringFlag{Name: "format", Value: "text", Usage: "with --check: `text`, or json (the problems as a list of diagnostics, the shape cwlbuild check prints)"},
		},
		HideHelpCommand: true,
		ExitErrHandler:  func(*cli.Context, error) {},
		Action:          patch,
	}
}

// exit1 is the exit code of a failure cwlpatch found; 2 is bad usage.
func exit1(format string, args ...any) error { return cli.Exit(fmt.Sprintf(format, args...), 1) }

func patch(c *cli.Context) error {
	mode, err := builder.ParsePinMode(c.String("pin"))
	if err != nil {
		return cli.Exit(err.Error(), 2)
	}
	if f := c.String("format"); f != "text" && (f != "json" || !c.Bool("check")) {
		return cli.Exit(fmt.Sprintf("--format %q: want text, or json with --check", f), 2)
	}
	images, args := hookImages(c.StringSlice("image"), c.Args().Slice())
	if err := checkUsage(args, images, c.Bool("check")); err != nil {
		return err
	}
	proj, err := loadProject(c)
	if err != nil {
		return exit1("%v\nno file was changed", err)
	}
	if len(args) == 0 && len(images) == 0 {
		return checkAll(c, proj)
	}
	out, source, err := readBuilds(c, proj, args, images)
	if err != nil {
		return exit1("%v", err)
	}
	write := !c.Bool("dry-run") && !c.Bool("check")
	oc, err := cwlpatch.Patch(c.Context, proj, out, cwlpatch.Options{Pin: mode, Write: write, Source: source})
	if oc != nil {
		reportRecovered(c, oc.Recovered)
	}
	if errors.Is(err, cwlpatch.ErrPartial) {
		return exit1("%v\nrun cwlpatch again to finish", err)
	} else if err != nil {
		return exit1("%v\nno file was changed", err)
	}
	warn(c, oc, len(images) == 0)
	if !write {
		for _, ch := range oc.Changed() {
			fmt.Fprint(c.App.Writer, textdiff.Unified(ch.Old, ch.New, "a/"+ch.File, "b/"+ch.File))
		}
	}
	return finish(c, proj, oc, source)
}

// hookImages are the --image values, or, when neither they nor BUILD_JSON
// are given, SKAFFOLD_IMAGE: in a Skaffold after-build hook Skaffold names
// the image built in the environment and does not expand "$SKAFFOLD_IMAGE"
// in argv.
func hookImages(images, args []string) ([]string, []string) {
	if img := os.Getenv("SKAFFOLD_IMAGE"); img != "" && len(images) == 0 && len(args) == 0 {
		images = []string{img}
	}
	return images, args
}

// checkUsage refuses the argument combinations that mean nothing (exit 2).
func checkUsage(args, images []string, check bool) error {
	switch {
	case len(args) > 1:
		return cli.Exit("cwlpatch: one BUILD_JSON at a time (got "+strings.Join(args, " ")+")", 2)
	case len(args) == 1 && len(images) > 0:
		return cli.Exit("cwlpatch: give BUILD_JSON or --image, not both", 2)
	case len(args) == 0 && len(images) == 0 && !check:
		return cli.Exit("cwlpatch: no BUILD_JSON: give the file `skaffold build -q --file-output` wrote, or - for stdin (see --help)", 2)
	}
	return nil
}

// loadProject loads project.toml for what cwlpatch reads: the CWL, never the
// build contexts (a CI job that patches after a build elsewhere may not
// have them), and prints its warnings.
func loadProject(c *cli.Context) (*builder.Plan, error) {
	file := c.String("file")
	if !c.IsSet("file") {
		// Skaffold runs hooks in its own working directory, wherever the
		// package's project.toml is: look upward, as git looks for .git.
		wd, err := os.Getwd()
		if err != nil {
			return nil, err
		}
		if file, err = builder.FindProject(wd); err != nil {
			return nil, err
		}
	}
	proj, err := builder.LoadContext(c.Context, file, builder.LoadOptions{
		AllowOutsidePaths: c.Bool("allow-outside-paths"),
		SkipContexts:      true,
		SkipTests:         true,
	})
	if err != nil {
		return nil, err
	}
	for _, w := range proj.Warnings {
		fmt.Fprintln(c.App.ErrWriter, "warning:", w)
	}
	return proj, nil
}

// checkAll is --check without a build output: every process of every tool
// must run a digest-pinned image.
func checkAll(c *cli.Context, proj *builder.Plan) error {
	unlock, recovered, err := cwlpatch.Lock(proj, false)
	if err != nil {
		return exit1("%v", err)
	}
	defer unlock()
	reportRecovered(c, recovered)
	return checkPinned(c, proj)
}

// warn prints what may defeat a pin, and the tools left alone.
func warn(c *cli.Context, oc *cwlpatch.Outcome, unbuilt bool) {
	if !c.Bool("check") {
		for _, o := range oc.Overrides {
			fmt.Fprintln(c.App.ErrWriter, "warning:", o)
		}
	}
	if unbuilt && !c.Bool("quiet") {
		for _, t := range oc.Unbuilt {
			fmt.Fprintf(c.App.ErrWriter, "not built, left alone: tool %q\n", t.Tool)
		}
	}
}

// finish reports the outcome: under --check, every copy of every built tool
// must already be pinned to this build, and every CommandLineTool to a
// digest.
func finish(c *cli.Context, proj *builder.Plan, oc *cwlpatch.Outcome, source string) error {
	switch {
	case c.Bool("check"):
		if n := len(oc.Changed()); n > 0 {
			return exit1("%d file(s) are not pinned to this build: run `cwlpatch %s`", n, source)
		}
		return checkPinned(c, proj)
	case c.Bool("dry-run"):
		report(c, oc, "would pin")
		return nil
	}
	report(c, oc, "pinned")
	if err := c.Context.Err(); err != nil {
		return exit1("%v after the files were being replaced: finished, every file is pinned", context.Cause(c.Context))
	}
	return nil
}

// readBuilds reads the build output: BUILD_JSON (or - for stdin), or, in
// hook mode, the --image references with their digests from the registry.
// It returns the name to use for it in messages.
func readBuilds(c *cli.Context, proj *builder.Plan, args, images []string) (*buildjson.Output, string, error) {
	if len(images) > 0 {
		out, err := buildsFromImages(c.Context, proj, images, c.StringSlice("insecure-registry"))
		return out, "--image", err
	}
	source := args[0]
	if source == "-" {
		source = "<stdin>"
	}
	out, err := buildjson.ReadFile(args[0], c.App.Reader)
	return out, source, err
}

func reportRecovered(c *cli.Context, n int) {
	if n > 0 {
		fmt.Fprintf(c.App.ErrWriter, "completed an interrupted run: %d staged file(s) renamed into place\n", n)
	}
}

// report prints one line per tool and a summary.
func report(c *cli.Context, res *cwlpatch.Outcome, verb string) {
	if c.Bool("quiet") {
		return
	}
	n, width := 0, 0
	for _, p := range res.Pinned {
		width = max(width, len(p.Tool))
	}
	for _, p := range res.Pinned {
		status := verb
		if !p.Changed {
			status = "unchanged"
		} else {
			n++
		}
		procs := "1 process"
		if p.Processes != 1 {
			procs = fmt.Sprintf("%d processes", p.Processes)
		}
		fmt.Fprintf(c.App.ErrWriter, "%-10s %-*s  %s (%s: %s)\n", status, width, p.Tool, p.Ref, procs, strings.Join(p.Places, ", "))
	}
	fmt.Fprintf(c.App.ErrWriter, "%d of %d tools %s, %d of %d files changed\n",
		n, len(res.Pinned), verb, len(res.Changed()), len(res.Changes))
}

// checkPinned is the end of every --check: cwlpatch.CheckPins, printed.
func checkPinned(c *cli.Context, proj *builder.Plan) error {
	rep, err := cwlpatch.CheckPins(c.Context, proj, cwlpatch.CheckOptions{Registry: c.Bool("registry"), Insecure: c.StringSlice("insecure-registry")})
	if err != nil {
		return exit1("%v", err)
	}
	if c.String("format") == "json" {
		if err := builder.WriteJSON(c.App.Writer, rep.Problems); err != nil {
			return err
		}
	} else {
		for _, p := range rep.Problems {
			fmt.Fprintln(c.App.Writer, p)
		}
	}
	if len(rep.Problems) > 0 {
		return exit1("%d problem(s): not every CommandLineTool runs a digest-pinned image the registry serves", len(rep.Problems))
	}
	if !c.Bool("quiet") {
		// Images no tool builds pass on their digest alone: list them, so
		// that a reviewer sees what else the package runs.
		for _, p := range rep.External {
			fmt.Fprintf(c.App.ErrWriter, "external image, not built here: %s runs %s\n", p.Place, p.Ref)
		}
		fmt.Fprintf(c.App.ErrWriter, "all %d processes are pinned by digest (%d tools)\n", rep.Processes, len(proj.Artifacts))
	}
	return nil
}
