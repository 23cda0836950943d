package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/eoap/cwlbuild/cwlpatch"
	"github.com/eoap/cwlbuild/internal/imageref"
	"github.com/eoap/cwlbuild/internal/registry/remote"
	"github.com/eoap/cwlbuild/internal/sign"
)

func signCommand() *cli.Command {
	return &cli.Command{
		Name:      "sign",
		Usage:     "sign image and artifact digests with a cosign key",
		UsageText: "cwlbuild sign [-f project.toml] --key FILE|env://VAR [--insecure-registry HOST]... [REF@DIGEST]...",
		Description: `Signs each digest the way cosign does, so that ` + "`cosign verify --key cosign.pub`" + ` accepts it:
a simple-signing payload naming the digest, signed with the key, pushed as a layer of
REPO:sha256-HEX.sig (signatures already there are kept). Without REF@DIGEST arguments:
every image the package's workflows pin. Sign the published workflow too by passing the
reference cwlbuild publish printed.

The key is a cosign private key (` + "`cosign generate-key-pair`" + `), from a file or, with env://VAR,
from an environment variable; its password comes from COSIGN_PASSWORD, as for cosign.
Neither is ever printed. No transparency log is written (keyless signing needs an
OIDC identity, Fulcio and Rekor): verify with --insecure-ignore-tlog=true.

Examples:
   COSIGN_PASSWORD=... cwlbuild sign --key cosign.key
   cwlbuild sign --key env://COSIGN_KEY ghcr.io/eoap/sample/app-water-bodies@sha256:...
   cosign verify --key cosign.pub --insecure-ignore-tlog=true ghcr.io/eoap/sample/crop@sha256:...`,
		Flags: []cli.Flag{
			projectFlag(),
			&cli.StringFlag{Name: "key", Required: true, Usage: "cosign private key: a `FILE`, or env://VAR"},
			&cli.StringSliceFlag{Name: "insecure-registry", Usage: "registry reached over plain HTTP (loopback ones always are)"},
		},
		Action: runSign,
	}
}

func runSign(c *cli.Context) error {
	fail := func(format string, args ...any) error {
		return cli.Exit("cwlbuild sign: "+fmt.Sprintf(format, args...), 1)
	}
	var keyData []byte
	key := c.String("key")
	if v, ok := strings.CutPrefix(key, "env://"); ok {
		keyData = []byte(os.Getenv(v))
		if len(keyData) == 0 {
			return fail("--key env://%s: the variable is empty", v)
		}
	} else {
		data, err := os.ReadFile(key)
		if err != nil {
			return fail("--key: %v", err)
		}
		keyData = data
	}
	signer, err := sign.LoadKey(keyData, []byte(os.Getenv("COSIGN_PASSWORD")))
	if err != nil {
		return fail("--key %s: %v", key, err)
	}
	refs := c.Args().Slice()
	insecure := c.StringSlice("insecure-registry")
	if len(refs) == 0 {
		plan, err := loadProject(c, c.String("file"), cwlChecks)
		if err != nil {
			return cli.Exit(err.Error(), 1)
		}
		insecure = append(insecure, plan.Kaniko.Insecure...)
		pins, err := cwlpatch.PinnedImages(plan)
		if err != nil {
			return fail("%v", err)
		}
		if len(pins) == 0 {
			return fail("the workflows pin no image by digest: run task build first, or name the digests")
		}
		for _, p := range pins {
			refs = append(refs, p.Ref)
		}
	}
	for _, ref := range refs {
		r, err := imageref.Parse(ref)
		if err != nil || r.Digest == "" {
			return fail("%q: want REPOSITORY[:TAG]@sha256:DIGEST", ref)
		}
		payload := sign.Payload(r.Repo, r.Digest)
		sig, err := signer.Sign(payload)
		if err != nil {
			return fail("%v", err)
		}
		if err := remote.AttachSignature(c.Context, r.Repo, r.Digest, payload, sig, insecure); err != nil {
			return fail("%s: %v", ref, err)
		}
		fmt.Fprintf(c.App.Writer, "signed %s@%s (%s:%s)\n", r.Repo, r.Digest, r.Repo, remote.SignatureTag(r.Digest))
	}
	return nil
}
