package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/eoap/cwlbuild/internal/atomicfile"
	"github.com/eoap/cwlbuild/release/publish"
)

func publishCommand() *cli.Command {
	return &cli.Command{
		Name:      "publish",
		Usage:     "push each pinned workflow to the registry as an OCI artifact",
		UsageText: "cwlbuild publish [-f project.toml] [--registry PREFIX] [--tag TAG]... [--candidate] [--build-json FILE] [--ref-file FILE] [--dry-run]",
		Description: `Pushes every [[workflows]] CWL file, exactly as it is on disk, as an OCI artifact
PREFIX/STEM:VERSION (STEM: the file name without .cwl; VERSION: [project] version;
PREFIX: the default profile's registry unless --registry), plus each --tag. One layer
holds the file (application/cwl+yaml or +json, named after the file for oras); the
artifact type is application/cwl; annotations record the title, version, description,
source ([project] repository, else the git remote "origin") and revision (git HEAD).
No creation time is recorded: publishing the same file twice gives the same digest.

Nothing is pushed when any CommandLineTool of a workflow file is not pinned by digest,
or, with --build-json (default: build.json beside project.toml when it exists), when
cwlpatch would still change a file: a release never publishes a floating image.
Credentials come from the Docker config (see cwlbuild auth).

Each published reference (REPO:TAG@sha256:..., the version's first) is printed on
standard output, one per line, and with --ref-file also written to FILE, whole or not at
all: a CI job takes its outputs from that file, never from a log a build step can write to.

Examples:
   cwlbuild publish                                  # after task build
   cwlbuild publish --tag latest --registry ghcr.io/eoap/releases
   oras pull ghcr.io/eoap/sample/app-water-bodies:0.1.0   # fetch it back`,
		Flags: []cli.Flag{
			registryTimeoutFlag(),
			projectFlag(),
			&cli.StringFlag{Name: "registry", Usage: "repository `PREFIX` (default: the default profile's registry)"},
			&cli.StringSliceFlag{Name: "tag", Usage: "extra `TAG` besides [project] version (repeatable)"},
			&cli.StringFlag{Name: "build-json", Usage: "the workflows must be pinned to this build output (default: build.json beside project.toml, if any)"},
			&cli.StringSliceFlag{Name: "insecure-registry", Usage: "registry reached over plain HTTP (loopback ones always are)"},
			&cli.BoolFlag{Name: "candidate", Usage: "push under VERSION-candidate only (sign and verify it, then publish again to promote the same digest)"},
			&cli.StringFlag{Name: "ref-file", Usage: "also write the published references to `FILE`, one per line (not with --dry-run)"},
			&cli.BoolFlag{Name: "dry-run", Usage: "check and print what would be pushed; push nothing"},
		},
		Action: runPublish,
	}
}

func runPublish(c *cli.Context) error {
	ctx, cancel := withRegistryTimeout(c)
	defer cancel()
	plan, err := loadProject(c, c.String("file"), cwlChecks)
	if err != nil {
		return cli.Exit(err.Error(), 1)
	}
	buildJSON := c.String("build-json")
	if _, err := os.Stat(filepath.Join(plan.Dir, "build.json")); buildJSON == "" && err == nil {
		buildJSON = filepath.Join(plan.Dir, "build.json")
	}
	releases, err := publish.Prepare(ctx, plan, publish.Options{Registry: c.String("registry"), Tags: c.StringSlice("tag"), BuildJSON: buildJSON, Candidate: c.Bool("candidate")})
	if err != nil {
		return cli.Exit(fmt.Sprintf("cwlbuild publish: nothing pushed:\n%v", err), 1)
	}
	if c.Bool("dry-run") && c.IsSet("ref-file") {
		return cli.Exit("cwlbuild publish: --ref-file names what was published: it does not go with --dry-run", 2)
	}
	insecure := append(c.StringSlice("insecure-registry"), plan.Kaniko.Insecure...)
	if !c.Bool("dry-run") {
		if err := publish.Push(ctx, plan, releases, insecure); err != nil {
			return cli.Exit("cwlbuild publish: "+err.Error(), 1)
		}
	}
	var refs strings.Builder
	for _, r := range releases {
		for _, t := range r.Tags {
			fmt.Fprintf(&refs, "%s:%s@%s\n", r.Repo, t, r.Digest)
		}
	}
	if f := c.String("ref-file"); f != "" {
		if err := atomicfile.Write(f, []byte(refs.String()), 0o644); err != nil {
			return cli.Exit(fmt.Sprintf("cwlbuild publish: published, but --ref-file: %v", err), 1)
		}
	}
	fmt.Fprint(c.App.Writer, refs.String())
	for _, r := range releases {
		fmt.Fprintf(c.App.ErrWriter, "%s %s\n", map[bool]string{true: "would publish", false: "published"}[c.Bool("dry-run")], r.File)
	}
	return nil
}
