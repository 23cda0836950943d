package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/eoap/cwlbuild/cwlpatch"
	"github.com/eoap/cwlbuild/internal/cliapp"
	"github.com/eoap/cwlbuild/internal/imageref"
	"github.com/eoap/cwlbuild/internal/registry/remote"
	"github.com/eoap/cwlbuild/internal/sbom"
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
	if f := c.String("build-artifacts"); f != "" && len(refs) > 0 {
		return fail("--build-artifacts and images named as arguments: give one or the other")
	} else if f != "" {
		out, err := buildjson.ReadFile(f, c.App.Reader)
		if err != nil {
			return fail("%v", err)
		}
		for _, b := range out.Builds {
			r, err := imageref.Parse(b.Tag)
			if err != nil || r.Digest == "" {
				return fail("%s:%d: %s was built as %q, with no digest: Skaffold could not read the pushed digest", f, b.Line, b.ImageName, b.Tag)
			}
			refs = append(refs, b.Tag)
		}
		if len(refs) == 0 {
			fmt.Fprintf(c.App.ErrWriter, "cwlbuild sbom: %s lists no image: no SBOM made\n", f)
			return nil
		}
	} else if len(refs) == 0 {
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
		// Only images of a registry: a local path (the agent's other
		// inputs) is never read on a name a build output gives.
		local := strings.HasPrefix(ref, "docker-archive:") || strings.HasPrefix(ref, "dir:")
		if r, err := imageref.Parse(ref); err != nil || r.Digest == "" || local {
			return fail("%q: want REPOSITORY[:TAG]@sha256:DIGEST", ref)
		}
	}
	if !c.Bool("force") && !c.Bool("no-attach") && c.String("output") == "" {
		refs = withoutSBOM(c, refs, format, insecure)
		if len(refs) == 0 {
			return nil
		}
	}
	if err := runSBOMAgent(c, plan.Dir, sbomRequest{Format: format, Output: c.String("output"), NoAttach: c.Bool("no-attach"), Insecure: insecure, Inputs: refs}); err != nil {
		return fail("%v", err)
	}
	return nil
}

// sbomRequest is one run of the SBOM agent.
type sbomRequest struct {
	Format   string
	Output   string // also write each SBOM into this directory
	NoAttach bool
	Insecure []string
	// Inputs are IMAGE@DIGEST references, docker-archive:PATH[:IMAGE@DIGEST]
	// tarballs or dir:PATH directories.
	Inputs []string
}

// runSBOMAgent runs cwlbuild-sbom. syft runs in a program of its own:
// linked here it would slow every cwlbuild start by about 30 ms. An output
// directory in the package (dir) is written through no link the package
// holds. The agent prints its own errors; the error returned says only
// that it failed, or that it is not installed.
func runSBOMAgent(c *cli.Context, dir string, req sbomRequest) error {
	prog, err := siblingOrPath(sbomAgent)
	if err != nil {
		return fmt.Errorf("%s is not installed (beside cwlbuild or on PATH): go install github.com/eoap/cwlbuild/cmd/%s@latest, or set [release] sbom = \"none\"", sbomAgent, sbomAgent)
	}
	args := []string{"--format", req.Format}
	if d := req.Output; d != "" {
		args = append(args, "--output", d)
		if abs, err := filepath.Abs(d); err == nil {
			if rel, err := filepath.Rel(dir, abs); err == nil && filepath.IsLocal(rel) {
				args = append(args, "--root", dir)
			}
		}
	}
	if req.NoAttach {
		args = append(args, "--no-attach")
	}
	for _, h := range req.Insecure {
		args = append(args, "--insecure-registry", h)
	}
	cmd := exec.CommandContext(c.Context, prog, append(append(args, "--"), req.Inputs...)...)
	cmd.Stdout, cmd.Stderr = c.App.Writer, c.App.ErrWriter
	cliapp.PassSignals(c.Context, cmd)
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s failed (%v)", sbomAgent, err)
	}
	return nil
}

// withoutSBOM drops the images that already have an SBOM of the format
// attached, saying so; an image whose registry cannot tell is kept (making
// its SBOM will name the fault).
func withoutSBOM(c *cli.Context, refs []string, format string, insecure []string) []string {
	mediaType, _ := sbom.MediaType(format)
	var keep []string
	seen := map[string]bool{}
	for _, ref := range refs {
		r, _ := imageref.Parse(ref)
		byDigest := r.Repo + "@" + r.Digest
		if seen[byDigest] {
			continue
		}
		seen[byDigest] = true
		if ok, err := remote.HasReferrer(c.Context, r.Repo, r.Digest, []string{mediaType}, insecure); err == nil && ok {
			fmt.Fprintf(c.App.ErrWriter, "cwlbuild sbom: %s already has a %s SBOM (--force makes it again)\n", byDigest, format)
			continue
		}
		keep = append(keep, ref)
	}
	return keep
}
