package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/eoap/cwlbuild/cwlpatch"
	"github.com/eoap/cwlbuild/internal/cliapp"
	"github.com/eoap/cwlbuild/internal/imageref"
	"github.com/eoap/cwlbuild/internal/sbom"
)

func sbomCommand() *cli.Command {
	return &cli.Command{
		Name:      "sbom",
		Usage:     "make each image's SBOM (syft) and attach it to the image digest as an OCI referrer",
		UsageText: "cwlbuild sbom [-f project.toml] [--format spdx|cyclonedx] [--output DIR] [--no-attach] [--insecure-registry HOST]... [IMAGE@DIGEST]...",
		Description: `Reads each image from its registry by digest (what the pin names, not a local copy),
catalogues it with Anchore's syft, and attaches the SBOM (SPDX 2.3 JSON, or CycloneDX
JSON) to the digest as an OCI 1.1 referrer of artifact type application/spdx+json (or
application/vnd.cyclonedx+json): found through the registry's Referrers API, or the
fallback tag sha256-HEX on registries without it (oras discover lists both). Without
arguments: every image the package's workflows pin. The format defaults to [release]
sbom. --output DIR also writes each SBOM to DIR.

Examples:
   cwlbuild sbom                                   # after task build
   cwlbuild sbom --format cyclonedx --output sboms
   oras discover ghcr.io/eoap/sample/crop@sha256:...`,
		Flags: []cli.Flag{
			projectFlag(),
			&cli.StringFlag{Name: "format", Usage: "spdx or cyclonedx (default: [release] sbom)"},
			&cli.StringFlag{Name: "output", Usage: "also write each SBOM into `DIR`"},
			&cli.BoolFlag{Name: "no-attach", Usage: "attach nothing to the images (with --output)"},
			&cli.StringSliceFlag{Name: "insecure-registry", Usage: "registry reached over plain HTTP (loopback ones always are)"},
		},
		Action: runSBOM,
	}
}

// sbomAgent makes the SBOMs.
const sbomAgent = "cwlbuild-sbom"

// siblingOrPath finds a program beside this executable (a release
// archive, .bin), else on PATH.
func siblingOrPath(prog string) (string, error) {
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), prog)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p, nil
		}
	}
	return exec.LookPath(prog)
}

func runSBOM(c *cli.Context) error {
	fail := func(format string, args ...any) error {
		return cli.Exit("cwlbuild sbom: "+fmt.Sprintf(format, args...), 1)
	}
	plan, err := loadProject(c, c.String("file"), cwlChecks)
	if err != nil {
		return cli.Exit(err.Error(), 1)
	}
	format := c.String("format")
	if format == "" {
		format = plan.SBOM
	}
	if format == "none" {
		fmt.Fprintln(c.App.Writer, "[release] sbom = \"none\": no SBOM made")
		return nil
	}
	if _, err := sbom.MediaType(format); err != nil {
		return fail("--format: %v", err)
	}
	if c.Bool("no-attach") && c.String("output") == "" {
		return fail("--no-attach without --output would keep nothing")
	}
	insecure := append(c.StringSlice("insecure-registry"), plan.Kaniko.Insecure...)
	refs := c.Args().Slice()
	if len(refs) == 0 {
		pins, err := cwlpatch.PinnedImages(plan)
		if err != nil {
			return fail("%v", err)
		}
		for _, p := range pins {
			refs = append(refs, p.Ref)
		}
		if len(refs) == 0 {
			return fail("the workflows pin no image by digest: run task build first, or name the digests")
		}
	}
	for _, ref := range refs {
		if r, err := imageref.Parse(ref); err != nil || r.Digest == "" {
			return fail("%q: want REPOSITORY[:TAG]@sha256:DIGEST", ref)
		}
	}
	// syft runs in a program of its own (cwlbuild-sbom): linked here it
	// would slow every cwlbuild start by about 30 ms.
	prog, err := siblingOrPath(sbomAgent)
	if err != nil {
		return fail("%s is not installed (beside cwlbuild or on PATH): go install github.com/eoap/cwlbuild/cmd/%s@latest", sbomAgent, sbomAgent)
	}
	args := []string{"--format", format}
	if d := c.String("output"); d != "" {
		args = append(args, "--output", d)
		// In the package, no link the package holds may lead it out.
		if abs, err := filepath.Abs(d); err == nil {
			if rel, err := filepath.Rel(plan.Dir, abs); err == nil && filepath.IsLocal(rel) {
				args = append(args, "--root", plan.Dir)
			}
		}
	}
	if c.Bool("no-attach") {
		args = append(args, "--no-attach")
	}
	for _, h := range insecure {
		args = append(args, "--insecure-registry", h)
	}
	cmd := exec.CommandContext(c.Context, prog, append(append(args, "--"), refs...)...)
	cmd.Stdout, cmd.Stderr = c.App.Writer, c.App.ErrWriter
	cliapp.PassSignals(c.Context, cmd)
	if err := cmd.Run(); err != nil {
		return cli.Exit("", 1)
	}
	return nil
}
