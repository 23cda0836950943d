package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/eoap/cwlbuild/release/attest"
)

func signCommand() *cli.Command {
	return &cli.Command{
		Name:      "sign",
		Usage:     "sign image and artifact digests with a cosign key",
		UsageText: "cwlbuild sign [-f project.toml] --key FILE|env://VAR [--signature-format both|bundle|legacy] [--insecure-registry HOST]... [REF@DIGEST]...",
		Description: `Signs each digest the way cosign does, so that ` + "`cosign verify --key cosign.pub`" + ` (v2 or v3)
accepts it, in both of cosign's formats unless --signature-format names one:
  legacy  a simple-signing payload naming the digest, signed with the key, a layer of
          REPO:sha256-HEX.sig (cosign 2.x, Kyverno's Cosign type);
  bundle  an in-toto statement naming the digest (https://sigstore.dev/cosign/sign/v1) in a
          DSSE envelope in a Sigstore bundle, an OCI 1.1 referrer of the image, listed in the
          sha256-HEX fallback tag where the registry has no Referrers API (cosign v3's
          default, cosign 2.6, Kyverno's SigstoreBundle type).
Signatures already there are kept; the same one by the same key is not added twice.
Without REF@DIGEST arguments: every image the package's workflows pin. Sign the published
workflow too by passing the reference cwlbuild publish printed.

The key is a cosign private key (` + "`cosign generate-key-pair`" + `), from a file or, with env://VAR,
from an environment variable; its password comes from COSIGN_PASSWORD, as for cosign.
Neither is ever printed. No transparency log is written (keyless signing needs an
OIDC identity, Fulcio and Rekor): verify with --insecure-ignore-tlog=true.

Examples:
   COSIGN_PASSWORD=... cwlbuild sign --key cosign.key
   cwlbuild sign --key env://COSIGN_KEY ghcr.io/eoap/sample/app-water-bodies@sha256:...
   cwlbuild sign --key cosign.key --signature-format legacy ghcr.io/eoap/sample/crop@sha256:...
   cosign verify --key cosign.pub --insecure-ignore-tlog=true ghcr.io/eoap/sample/crop@sha256:...`,
		Flags: []cli.Flag{
			projectFlag(),
			&cli.StringFlag{Name: "key", Required: true, Usage: "cosign private key: a `FILE`, or env://VAR"},
			signatureFormatFlag(),
			&cli.StringSliceFlag{Name: "insecure-registry", Usage: "registry reached over plain HTTP (loopback ones always are)"},
		},
		Action: runSign,
	}
}

func runSign(c *cli.Context) error {
	fail := func(format string, args ...any) error {
		return cli.Exit("cwlbuild sign: "+fmt.Sprintf(format, args...), 1)
	}
	opts, err := attestOptions(c)
	if err != nil {
		return fail("%v", err)
	}
	images, err := parseImages(c.Args().Slice())
	if err != nil {
		return fail("%v", err)
	}
	if len(images) == 0 {
		plan, err := loadProject(c, c.String("file"), cwlChecks)
		if err != nil {
			return cli.Exit(err.Error(), 1)
		}
		opts.Insecure = append(opts.Insecure, plan.Kaniko.Insecure...)
		if images, err = attest.Pins(plan); err != nil {
			return fail("%v", err)
		}
		if len(images) == 0 {
			return fail("the workflows pin no image by digest: run task build first, or name the digests")
		}
	}
	// An index and each of its platform images: a runner pulls the one
	// of its platform, which must be signed too.
	if images, err = attest.WithPlatformImages(c.Context, images, opts.Insecure); err != nil {
		return fail("%v", err)
	}
	for _, img := range images {
		if err := attest.Sign(c.Context, img, opts); err != nil {
			return fail("%v", err)
		}
	}
	return nil
}

func signatureFormatFlag() cli.Flag {
	return &cli.StringFlag{Name: "signature-format", Value: "both", Usage: "`both`, bundle (cosign v3, Kyverno SigstoreBundle) or legacy (cosign 2.x, Kyverno Cosign)"}
}

// attestOptions reads the flags sign and attest share: the key, the
// signature format and the insecure registries.
func attestOptions(c *cli.Context) (attest.Options, error) {
	formats, err := attest.ParseFormats(c.String("signature-format"))
	if err != nil {
		return attest.Options{}, err
	}
	signer, err := loadSigner(c.String("key"))
	if err != nil {
		return attest.Options{}, err
	}
	return attest.Options{Signer: signer, Formats: formats, Insecure: c.StringSlice("insecure-registry"), Out: c.App.Writer, Log: c.App.ErrWriter}, nil
}

// loadSigner reads a cosign private key from a file or env://VAR, with
// COSIGN_PASSWORD; the error never quotes the key or the password.
func loadSigner(key string) (attest.Signer, error) {
	var data []byte
	if v, ok := strings.CutPrefix(key, "env://"); ok {
		data = []byte(os.Getenv(v))
		if len(data) == 0 {
			return nil, fmt.Errorf("--key env://%s: the variable is empty", v)
		}
	} else {
		d, err := os.ReadFile(key)
		if err != nil {
			return nil, fmt.Errorf("--key: %v", err)
		}
		data = d
	}
	s, err := attest.LoadKey(data, []byte(os.Getenv("COSIGN_PASSWORD")))
	if err != nil {
		return nil, fmt.Errorf("--key %s: %v", key, err)
	}
	return s, nil
}

func attestCommand() *cli.Command {
	return &cli.Command{
		Name:      "attest",
		Usage:     "attach signed SLSA provenance to the package's images and published workflows",
		UsageText: "cwlbuild attest [-f project.toml] --key FILE|env://VAR [--workflow REF@DIGEST]... [--signature-format both|bundle|legacy] [--insecure-registry HOST]... [IMAGE@DIGEST]...",
		Description: `For each image (default: every image the workflows pin) an in-toto statement with a
SLSA provenance v1 predicate: the subject is the image digest; it records the source
repository and revision, the sha256 of project.toml, the tool, how the plan builds
(engine, runtime, Kaniko image, reproducible), and the tool's base images: each FROM
image by name, and as a resolved dependency with its digest where that is known (the
image the base's tag names, read through the registry map, has layers that start the
built image's; a tag moved since the build is recorded by name only). For each --workflow (the reference cwlbuild
publish printed) a statement whose subjects are the artifact and every [[workflows]]
file, listing every image digest they pin. Each is signed as a DSSE envelope and pushed as
cosign pushes attestations, in both its formats unless --signature-format says one
(REPO:sha256-HEX.att for cosign 2.x, a Sigstore bundle referrer for cosign v3), so that
` + "`cosign verify-attestation --key cosign.pub --type slsaprovenance1 --insecure-ignore-tlog=true`" + `
reads it. Key and password as for cwlbuild sign.

Examples:
   cwlbuild attest --key cosign.key
   cwlbuild attest --key cosign.key --workflow ghcr.io/eoap/sample/app-water-bodies:0.1.0@sha256:...`,
		Flags: []cli.Flag{
			projectFlag(),
			&cli.StringFlag{Name: "key", Required: true, Usage: "cosign private key: a `FILE`, or env://VAR"},
			&cli.StringSliceFlag{Name: "workflow", Usage: "a published workflow artifact `REF@DIGEST` (repeatable)"},
			signatureFormatFlag(),
			&cli.StringSliceFlag{Name: "insecure-registry", Usage: "registry reached over plain HTTP (loopback ones always are)"},
		},
		Action: runAttest,
	}
}

func runAttest(c *cli.Context) error {
	fail := func(format string, args ...any) error {
		return cli.Exit("cwlbuild attest: "+fmt.Sprintf(format, args...), 1)
	}
	opts, err := attestOptions(c)
	if err != nil {
		return fail("%v", err)
	}
	plan, err := loadProject(c, c.String("file"), cwlChecks)
	if err != nil {
		return cli.Exit(err.Error(), 1)
	}
	opts.Insecure = append(opts.Insecure, plan.Kaniko.Insecure...)
	pins, err := attest.Pins(plan)
	if err != nil {
		return fail("%v", err)
	}
	images, err := parseImages(c.Args().Slice())
	if err != nil {
		return fail("%v", err)
	}
	workflows, err := parseImages(c.StringSlice("workflow"))
	if err != nil {
		return fail("--workflow %v", err)
	}
	if len(images) == 0 && len(workflows) == 0 {
		images = pins
	}
	if images, err = attest.WithPlatformImages(c.Context, images, opts.Insecure); err != nil {
		return fail("%v", err)
	}
	for _, img := range images {
		if err := attest.Image(c.Context, plan, img, opts); err != nil {
			return fail("%v", err)
		}
	}
	for _, wf := range workflows {
		if err := attest.Workflow(c.Context, plan, wf, pins, opts); err != nil {
			return fail("%v", err)
		}
	}
	return nil
}
