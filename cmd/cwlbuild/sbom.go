package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/eoap/cwlbuild/build"
	"github.com/eoap/cwlbuild/release/attest"
	"github.com/eoap/cwlbuild/release/sbom"
	"github.com/eoap/cwlbuild/skaffold/buildjson"
)

func sbomCommand() *cli.Command {
	return &cli.Command{
		Name:      "sbom",
		Usage:     "make each image's SBOM (syft) and attach it to the image digest as an OCI referrer",
		UsageText: "cwlbuild sbom [-f project.toml] [--format spdx|cyclonedx] [-a build.json] [--output DIR] [--no-attach] [--force] [--insecure-registry HOST]... [IMAGE@DIGEST]...",
		Description: `Reads each image from its registry by digest (what the pin names, not a local copy),
catalogues it with Anchore's syft, and attaches the SBOM (SPDX 2.3 JSON, or CycloneDX
JSON) to the digest as an OCI 1.1 referrer of artifact type application/spdx+json (or
application/vnd.cyclonedx+json): found through the registry's Referrers API, or the
fallback tag sha256-HEX on registries without it (oras discover lists both). The
images: those named, else every image of a Skaffold build output (-a, as
skaffold's --build-artifacts), else every image the package's workflows pin. An
image that already has an SBOM of the format attached is skipped (an image's
bytes never change under its digest; --force makes it again). The format
defaults to [release] sbom; "none" makes nothing. --output DIR also writes each
SBOM to DIR. task build runs "cwlbuild sbom -a build.json" after each build.

Examples:
   cwlbuild sbom                                   # every pinned image
   cwlbuild sbom -a build.json                     # what the last build pushed
   cwlbuild sbom --format cyclonedx --output sboms
   oras discover ghcr.io/eoap/sample/crop@sha256:...`,
		Flags: []cli.Flag{
			projectFlag(),
			&cli.StringFlag{Name: "format", Usage: "spdx or cyclonedx (default: [release] sbom)"},
			&cli.StringFlag{Name: "build-artifacts", Aliases: []string{"a"}, Usage: "the images of Skaffold's build output `FILE` (skaffold build --file-output)"},
			&cli.StringFlag{Name: "output", Usage: "also write each SBOM into `DIR`"},
			&cli.BoolFlag{Name: "force", Usage: "make and attach an SBOM even where one of the format is attached"},
			&cli.BoolFlag{Name: "no-attach", Usage: "attach nothing to the images (with --output)"},
			&cli.StringSliceFlag{Name: "insecure-registry", Usage: "registry reached over plain HTTP (loopback ones always are)"},
		},
		Action: runSBOM,
	}
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
	insecure := append(c.StringSlice("insecure-registry"), plan.Kaniko.Insecure...)
	opts := sbom.Options{Format: format, Output: c.String("output"), NoAttach: c.Bool("no-attach"), Force: c.Bool("force"), Insecure: insecure, Out: c.App.Writer, Log: c.App.ErrWriter}
	if err := opts.Validate(); err != nil {
		return fail("%v", err)
	}
	images, err := parseImages(c.Args().Slice())
	if err != nil {
		return fail("%v", err)
	}
	if f := c.String("build-artifacts"); f != "" && len(images) > 0 {
		return fail("--build-artifacts and images named as arguments: give one or the other")
	} else if f != "" {
		out, err := buildjson.ReadFile(f, c.App.Reader)
		if err != nil {
			return fail("%v", err)
		}
		for _, b := range out.Builds {
			img, err := build.ParseBuilt(b.Tag)
			if err != nil {
				return fail("%s:%d: %s was built as %q, with no digest: Skaffold could not read the pushed digest", f, b.Line, b.ImageName, b.Tag)
			}
			images = append(images, img)
		}
		if len(images) == 0 {
			fmt.Fprintf(c.App.ErrWriter, "cwlbuild sbom: %s lists no image: no SBOM made\n", f)
			return nil
		}
	} else if len(images) == 0 {
		if images, err = attest.Pins(plan); err != nil {
			return fail("%v", err)
		}
		if len(images) == 0 {
			return fail("the workflows pin no image by digest: run task build first, or name the digests")
		}
	}
	// An index's platform images each get theirs (the index too).
	if images, err = attest.WithPlatformImages(c.Context, images, insecure); err != nil {
		return fail("%v", err)
	}
	if err := sbom.Images(c.Context, plan.Dir, images, opts); err != nil {
		return fail("%v", err)
	}
	return nil
}

// parseImages reads REPOSITORY[:TAG]@sha256:DIGEST arguments.
func parseImages(refs []string) ([]build.Built, error) {
	var out []build.Built
	for _, ref := range refs {
		b, err := build.ParseBuilt(ref)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}
