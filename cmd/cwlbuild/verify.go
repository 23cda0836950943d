package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/eoap/cwlbuild/builder"
	"github.com/eoap/cwlbuild/internal/sbomformat"
	"github.com/eoap/cwlbuild/internal/sign"
	"github.com/eoap/cwlbuild/release/verify"
)

func verifyCommand() *cli.Command {
	return &cli.Command{
		Name:      "verify",
		Usage:     "check a released workflow and every image it pins against the publisher's key",
		UsageText: "cwlbuild verify --key cosign.pub [--sbom=false] [--insecure-registry HOST]... [--timeout DURATION] [--artifact REF] [--format text|json] REF|FILE.cwl",
		Description: `REF is a published workflow artifact (what cwlbuild publish printed, by tag or digest);
FILE.cwl a workflow file received some other way. For an artifact: its signature by the
key, and its SLSA provenance (source revision, the images it pins, the file's digest).
Then for every CommandLineTool of the workflow: its image is pinned by digest; the
registry serves that digest, and its tag, if the pin names one, still names it; it is
signed by the key; it has an SBOM attached (an OCI referrer, SPDX or CycloneDX) that its
signed provenance names (attest after sbom: a referrer nobody signed is no SBOM); its
provenance names the workflow's source revision and the workflow's provenance lists it.
A FILE.cwl is verified only with --artifact, the published workflow it came from: that
artifact's signed provenance must name the file's sha256; without it, or when the file
differs, the file itself is not verified and the exit is 1, whatever its images (a signed
pin can be copied into any file). Each distinct image is checked once.
Signatures and provenance are read in both of cosign's formats (the legacy
sha256-HEX.sig and .att tags, and Sigstore bundles attached as OCI 1.1 referrers).
One line per image, then a summary (--format json: the failures as a JSON list of
diagnostics, the shape cwlbuild check prints); exit 1 on any failure, naming it. An interrupt or
--timeout stops at once and verifies nothing. Nothing is read from the package: only the
key and the registry are trusted.

Examples:
   cwlbuild verify --key cosign.pub ghcr.io/eoap/sample/app-water-bodies:0.1.0
   cwlbuild verify --key cosign.pub --artifact ghcr.io/eoap/sample/app-water-bodies:0.1.0 app-water-bodies.cwl`,
		Flags: []cli.Flag{
			registryTimeoutFlag(),
			&cli.StringFlag{Name: "key", Required: true, Usage: "the publisher's public key (`cosign.pub`)"},
			&cli.BoolFlag{Name: "sbom", Value: true, Usage: "require an SBOM of each image"},
			&cli.StringFlag{Name: "artifact", Usage: "for FILE.cwl: the published workflow `REF` whose signed provenance must name the file"},
			formatFlag(),
			&cli.StringSliceFlag{Name: "insecure-registry", Usage: "registry reached over plain HTTP (loopback ones always are)"},
		},
		Action: runVerify,
	}
}

func runVerify(c *cli.Context) error {
	ctx, cancel := withRegistryTimeout(c)
	defer cancel()
	if c.NArg() != 1 {
		return cli.Exit("cwlbuild verify: name one workflow artifact or file", 2)
	}
	format, err := parseFormat(c)
	if err != nil {
		return cli.Exit("cwlbuild verify: "+err.Error(), 2)
	}
	data, err := os.ReadFile(c.String("key"))
	if err != nil {
		return cli.Exit("cwlbuild verify: --key: "+err.Error(), 2)
	}
	key, err := sign.LoadPublicKey(data)
	if err != nil {
		return cli.Exit("cwlbuild verify: --key "+c.String("key")+": "+err.Error(), 2)
	}
	opts := verify.Options{Key: key, Insecure: c.StringSlice("insecure-registry"), Artifact: c.String("artifact")}
	if c.Bool("sbom") {
		opts.SBOM = sbomformat.MediaTypes
	}
	target := c.Args().First()
	var rep *verify.Report
	if strings.HasSuffix(target, ".cwl") {
		data, err := os.ReadFile(target)
		if err != nil {
			return cli.Exit("cwlbuild verify: "+err.Error(), 1)
		}
		rep, err = verify.File(ctx, target, data, opts)
		if err != nil {
			return cli.Exit("cwlbuild verify: "+err.Error(), 1)
		}
	} else if opts.Artifact != "" {
		return cli.Exit("cwlbuild verify: --artifact goes with a FILE.cwl", 2)
	} else if rep, err = verify.Artifact(ctx, target, opts); err != nil {
		return cli.Exit("cwlbuild verify: "+err.Error(), 1)
	}
	w := c.App.Writer
	if format == "json" {
		if err := builder.WriteJSON(w, rep.Diagnostics()); err != nil {
			return err
		}
		if rep.Failed() {
			return cli.Exit("", 1)
		}
		return nil
	}
	status := func(problems []string) string {
		if len(problems) == 0 {
			return "ok  "
		}
		return "FAIL"
	}
	rev := rep.Revision
	if rev == "" {
		rev = "unknown"
	}
	fmt.Fprintf(w, "%s workflow %s (revision %s)\n", status(rep.Problems), rep.Workflow, rev)
	for _, p := range rep.Problems {
		fmt.Fprintf(w, "       %s\n", p)
	}
	failed := 0
	for _, i := range rep.Images {
		if len(i.Problems) > 0 {
			failed++
		}
		fmt.Fprintf(w, "%s %s %s\n", status(i.Problems), i.Process, i.Ref)
		for _, p := range i.Problems {
			fmt.Fprintf(w, "       %s\n", p)
		}
	}
	fmt.Fprintf(w, "%d images, %d failed; the workflow %s\n", len(rep.Images), failed, map[bool]string{true: "failed", false: "verified"}[rep.Failed()])
	if rep.Failed() {
		return cli.Exit("", 1)
	}
	return nil
}
