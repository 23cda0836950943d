package main

import (
	"fmt"
	"slices"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/eoap/cwlbuild/builder"
	"github.com/eoap/cwlbuild/check"
)

func checkCommand() *cli.Command {
	return &cli.Command{
		Name:      "check",
		Usage:     "validate project.toml, build contexts, Dockerfiles and CWL references",
		UsageText: "cwlbuild check [-f project.toml] [--format text|json] [--strict] [--cluster [--if-configured] [--profile P]]",
		Description: `Prints one line per problem (errors on stdout, warnings on stderr) and exits 1
if there is any error. With --format json, prints every diagnostic as one JSON array
on stdout: {"file", "line", "key", "severity": "error"|"warning", "message", "rule"},
for CI annotations.

The application-package rules (OGC 20-089, and the community's release contract) are
checked on every [[workflows]] file: a Workflow and a CommandLineTool in each; every
CommandLineTool with id, baseCommand, inputs and a DockerRequirement in requirements;
the Workflow and its inputs with label and doc; s:softwareVersion equal to [project]
version; every CommandLineTool's image built by a tool, or in [release] externalImages. They are warnings; --strict (what a release runs) makes them errors, except a
DockerRequirement only in hints, which stays a warning.

--cluster then checks, from inside the cluster, what a cluster build needs before any
build starts: one short pod in [build.cluster] namespace, as its serviceAccount, with the
push secret mounted as Skaffold's Kaniko pods mount it. One line each: the kubeconfig
user's RBAC for Skaffold (pods, pods/exec, pods/log); the service account and the push
secret exist; the init image and the executor image pull (and the executor runs); each
base image resolves through the registry map or mirrors; the push secret's login may push
to each tool's repository and to the Kaniko cache repository (one small blob uploaded,
then deleted). Needs cwlbuild-calrissian on PATH and a kubeconfig. With --if-configured
(what task build runs) it does only the pre-flight, and only when [build.cluster]
preflight = true and the profile builds in the cluster. With --format json, the
pre-flight's lines go to stderr and each failed check joins the JSON array, under the key
build.cluster.

Examples:
   cwlbuild check -f project.toml
   cwlbuild check --strict            # before a release
   cwlbuild check --cluster           # before the first cluster build, or after a secret changed
   cwlbuild check --format json | jq -r '.[] | "::\(.severity) file=\(.file),line=\(.line)::\(.message)"'`,
		Flags: []cli.Flag{
			projectFlag(),
			formatFlag(),
			&cli.BoolFlag{Name: "strict", Usage: "application-package rules are errors, not warnings"},
			&cli.BoolFlag{Name: "cluster", Usage: "then check from a pod in the build namespace what a cluster build needs"},
			&cli.BoolFlag{Name: "if-configured", Usage: "with --cluster: only the pre-flight, and only when [build.cluster] preflight = true"},
			&cli.StringFlag{Name: "profile", Usage: "with --if-configured: the build's `PROFILE` (default: [build] engine's)"},
			&cli.DurationFlag{Name: "timeout", Value: 2 * time.Minute, Usage: "how long the pre-flight may take"},
		},
		Action: runCheck,
	}
}

func runCheck(c *cli.Context) error {
	format, err := parseFormat(c)
	if err != nil {
		return cli.Exit("cwlbuild check: "+err.Error(), 2)
	}
	if c.Bool("if-configured") {
		if !c.Bool("cluster") {
			return cli.Exit("cwlbuild check: --if-configured goes with --cluster", 2)
		}
		return preflightIfConfigured(c)
	}
	diags, proj := check.Collect(c.Context, c.String("file"), check.Options{AllowOutsidePaths: allowOutside(c), Strict: c.Bool("strict")})
	errs := check.Errors(diags)
	if format == "json" {
		// One list: the package's diagnostics, then the pre-flight's
		// failures, its progress lines on stderr.
		var failed error
		if errs == 0 && c.Bool("cluster") {
			cluster, err := check.Cluster(c.Context, proj, c.Duration("timeout").String(), c.App.ErrWriter, c.App.ErrWriter)
			diags, failed = append(diags, cluster...), err
		}
		if err := builder.WriteJSON(c.App.Writer, diags); err != nil {
			return err
		}
		if errs > 0 {
			return cli.Exit(fmt.Sprintf("%d problem(s) found", errs), 1)
		}
		if failed != nil {
			return cli.Exit("cwlbuild check --cluster: "+failed.Error(), 1)
		}
		return nil
	}
	for _, d := range diags {
		if d.Severity == builder.SeverityError {
			fmt.Fprintln(c.App.Writer, d)
		} else {
			fmt.Fprintln(c.App.ErrWriter, "warning:", d)
		}
	}
	if errs > 0 {
		return cli.Exit(fmt.Sprintf("%d problem(s) found", errs), 1)
	}
	fmt.Fprintf(c.App.Writer, "%s: ok (%d tools, %d workflows)\n", proj.File, len(proj.Artifacts), len(proj.Workflows))
	if c.Bool("cluster") {
		return preflight(c, proj)
	}
	return nil
}

// preflightIfConfigured is what task build runs before building: the
// pre-flight when the package asks for it and the build is in the cluster.
func preflightIfConfigured(c *cli.Context) error {
	// What a build reads (generate has just checked it): not the CWL.
	opts := buildChecks
	opts.AllowOutsidePaths = allowOutside(c)
	proj, err := builder.LoadContext(c.Context, c.String("file"), opts)
	if err != nil {
		return err
	}
	prof := proj.DefaultProfile()
	if v := c.String("profile"); v != "" {
		prof = builder.Profile(v)
		if !slices.Contains(builder.Profiles, prof) {
			return cli.Exit(fmt.Sprintf("cwlbuild check: --profile %q: want one of %v", v, builder.Profiles), 2)
		}
	}
	if !proj.Cluster.Preflight || proj.Builder(prof) != builder.ProfileCluster || prof == builder.ProfileTTL {
		return nil
	}
	return preflight(c, proj)
}

func preflight(c *cli.Context, proj *builder.Plan) error {
	// A failed check has its line already; the exit names the step.
	if _, err := check.Cluster(c.Context, proj, c.Duration("timeout").String(), c.App.Writer, c.App.ErrWriter); err != nil {
		return cli.Exit("cwlbuild check --cluster: "+err.Error(), 1)
	}
	return nil
}
