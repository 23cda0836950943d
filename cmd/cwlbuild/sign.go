package main

import (
	"bytes"
	"crypto/ecdsa"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/eoap/cwlbuild/builder"
	"github.com/eoap/cwlbuild/cwlpatch"
	"github.com/eoap/cwlbuild/internal/imageref"
	"github.com/eoap/cwlbuild/internal/provenance"
	"github.com/eoap/cwlbuild/internal/registry/remote"
	"github.com/eoap/cwlbuild/internal/sign"
	"github.com/eoap/cwlbuild/skaffold"
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
	formats, err := parseSignatureFormat(c)
	if err != nil {
		return fail("%v", err)
	}
	signer, err := loadSigner(c.String("key"))
	if err != nil {
		return fail("%v", err)
	}
	// What verifies this key's signatures: a layer it verifies that holds
	// the same payload is not added again.
	pub, _ := signer.Public().(*ecdsa.PublicKey)
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
		var where []string
		if formats.legacy {
			payload := sign.Payload(r.Repo, r.Digest)
			sig, err := signer.Sign(payload)
			if err != nil {
				return fail("%v", err)
			}
			// The same payload signed by this key already: nothing added.
			same := func(l remote.Layer) bool {
				return pub != nil && bytes.Equal(l.Data, payload) && sign.Verify(pub, l.Data, l.Annotations[remote.SignatureAnnotation])
			}
			if err := remote.AttachSignature(c.Context, r.Repo, r.Digest, payload, sig, insecure, same); err != nil {
				return fail("%s: %v", ref, err)
			}
			where = append(where, r.Repo+":"+remote.SignatureTag(r.Digest))
		}
		if formats.bundle {
			statement, err := sign.SignStatement(r.Digest)
			if err != nil {
				return fail("%s: %v", ref, err)
			}
			d, err := attachBundle(c, signer, pub, r, statement, sign.SignPredicateType, insecure)
			if err != nil {
				return fail("%s: %v", ref, err)
			}
			where = append(where, "bundle "+r.Repo+"@"+d)
		}
		fmt.Fprintf(c.App.Writer, "signed %s@%s (%s)\n", r.Repo, r.Digest, strings.Join(where, ", "))
	}
	return nil
}

// signatureFormats are the formats a signature or an attestation is
// written in: cosign's legacy tags, the Sigstore bundle, or both.
type signatureFormats struct{ legacy, bundle bool }

func signatureFormatFlag() cli.Flag {
	return &cli.StringFlag{Name: "signature-format", Value: "both", Usage: "`both`, bundle (cosign v3, Kyverno SigstoreBundle) or legacy (cosign 2.x, Kyverno Cosign)"}
}

func parseSignatureFormat(c *cli.Context) (signatureFormats, error) {
	switch v := c.String("signature-format"); v {
	case "both":
		return signatureFormats{legacy: true, bundle: true}, nil
	case "bundle":
		return signatureFormats{bundle: true}, nil
	case "legacy":
		return signatureFormats{legacy: true}, nil
	default:
		return signatureFormats{}, fmt.Errorf("--signature-format %q: want both, bundle or legacy", v)
	}
}

// attachBundle signs statement (an in-toto statement about r's digest) in
// a Sigstore bundle and attaches it to r, unless a bundle of the same
// statement by the same key is there already; it returns the referrer's
// digest.
func attachBundle(c *cli.Context, signer sign.Signer, pub *ecdsa.PublicKey, r imageref.Reference, statement []byte, predicateType string, insecure []string) (string, error) {
	b, err := sign.Bundle(signer, statement)
	if err != nil {
		return "", err
	}
	same := func(data []byte) bool {
		if pub == nil {
			return false
		}
		p, err := sign.OpenBundle(pub, data)
		return err == nil && bytes.Equal(p, statement)
	}
	return remote.AttachBundle(c.Context, r.Repo, r.Digest, sign.BundleMediaType, b, predicateType, insecure, same)
}

// loadSigner reads a cosign private key from a file or env://VAR, with
// COSIGN_PASSWORD; the error never quotes the key or the password.
func loadSigner(key string) (sign.Signer, error) {
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
	s, err := sign.LoadKey(data, []byte(os.Getenv("COSIGN_PASSWORD")))
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
	formats, err := parseSignatureFormat(c)
	if err != nil {
		return fail("%v", err)
	}
	signer, err := loadSigner(c.String("key"))
	if err != nil {
		return fail("%v", err)
	}
	// What verifies this key's signatures: a layer it verifies that holds
	// the same payload is not added again.
	pub, _ := signer.Public().(*ecdsa.PublicKey)
	plan, err := loadProject(c, c.String("file"), cwlChecks)
	if err != nil {
		return cli.Exit(err.Error(), 1)
	}
	insecure := append(c.StringSlice("insecure-registry"), plan.Kaniko.Insecure...)
	pinned, err := cwlpatch.PinnedImages(plan)
	if err != nil {
		return fail("%v", err)
	}
	var pins []string
	for _, p := range pinned {
		pins = append(pins, p.Ref)
	}
	images := c.Args().Slice()
	if len(images) == 0 && len(c.StringSlice("workflow")) == 0 {
		images = pins
	}
	attach := func(ref string, st *provenance.Statement) error {
		r, _ := imageref.Parse(ref)
		payload, err := json.Marshal(st)
		if err != nil {
			return err
		}
		var where []string
		if formats.legacy {
			env, err := sign.Envelope(signer, sign.InTotoPayloadType, payload)
			if err != nil {
				return err
			}
			// The same statement signed by this key already: nothing added.
			same := func(l remote.Layer) bool {
				if pub == nil {
					return false
				}
				typ, p, err := sign.OpenEnvelope(pub, l.Data)
				return err == nil && typ == sign.InTotoPayloadType && bytes.Equal(p, payload)
			}
			if err := remote.AttachAttestation(c.Context, r.Repo, r.Digest, env, st.PredicateType, insecure, same); err != nil {
				return err
			}
			where = append(where, r.Repo+":"+remote.AttestationTag(r.Digest))
		}
		if formats.bundle {
			d, err := attachBundle(c, signer, pub, r, payload, st.PredicateType, insecure)
			if err != nil {
				return err
			}
			where = append(where, "bundle "+r.Repo+"@"+d)
		}
		fmt.Fprintf(c.App.Writer, "attested %s@%s (%s)\n", r.Repo, r.Digest, strings.Join(where, ", "))
		return nil
	}
	parse := func(ref string) (imageref.Reference, error) {
		r, err := imageref.Parse(ref)
		if err != nil || r.Digest == "" {
			return r, fmt.Errorf("%q: want REPOSITORY[:TAG]@sha256:DIGEST", ref)
		}
		return r, nil
	}
	for _, ref := range images {
		r, err := parse(ref)
		if err != nil {
			return fail("%v", err)
		}
		st, err := provenance.Image(plan, r.Repo, r.Digest, baseImages(c, plan, r, insecure))
		if err == nil {
			// The image's SBOMs, bound by this signed statement: verify
			// accepts no other.
			var sboms []remote.ReferrerDesc
			if sboms, err = remote.Referrers(c.Context, r.Repo, r.Digest, SBOMArtifactTypes, insecure); err == nil {
				for _, d := range sboms {
					st.AddSBOM(d.Digest, d.ArtifactType)
				}
				err = attach(ref, st)
			}
		}
		if err != nil {
			return fail("%s: %v", ref, err)
		}
	}
	for _, ref := range c.StringSlice("workflow") {
		r, err := parse(ref)
		if err != nil {
			return fail("--workflow %v", err)
		}
		st, err := provenance.Workflow(plan, r.Repo, r.Digest, pins)
		if err == nil {
			err = attach(ref, st)
		}
		if err != nil {
			return fail("%s: %v", ref, err)
		}
	}
	return nil
}

// baseImages are the base images of the tool that builds r, each with its
// digest where it is known: the first place the build reads it from whose
// image's layers start r's. A base that cannot be read, or whose tag has
// moved since the build, is recorded by name only, and said so.
func baseImages(c *cli.Context, plan *builder.Plan, r imageref.Reference, insecure []string) []provenance.Base {
	tool := provenance.ToolOf(plan, r.Repo)
	if tool == "" {
		return nil
	}
	images, err := skaffold.BaseImages(plan, tool)
	if err != nil {
		fmt.Fprintf(c.App.ErrWriter, "cwlbuild attest: %s: base images not recorded: %v\n", tool, err)
		return nil
	}
	built, readErr := remote.ReadBuilt(c.Context, r.Repo, r.Digest, insecure)
	var out []provenance.Base
	for i, img := range images {
		b := provenance.Base{Name: img.Name}
		var why []string
		if readErr != nil {
			why = append(why, readErr.Error())
		}
		for _, pull := range img.Pull {
			if readErr != nil || b.Digest != "" {
				break
			}
			d, ok, err := built.BuiltOn(pull)
			switch {
			case err != nil:
				why = append(why, err.Error())
			case !ok:
				why = append(why, pull+" now names "+d+", whose layers are not the first of the image")
			default:
				b.Pulled, b.Digest = pull, d
			}
		}
		if b.Digest != "" {
			fmt.Fprintf(c.App.ErrWriter, "cwlbuild attest: %s: base image %s is %s@%s\n", tool, img.Name, b.Pulled, b.Digest)
		} else if i == len(images)-1 {
			// Only the last stage's base can be checked: the others'
			// layers are not in the image.
			fmt.Fprintf(c.App.ErrWriter, "cwlbuild attest: %s: base image %s recorded without a digest (%s)\n", tool, img.Name, strings.Join(why, "; "))
		}
		out = append(out, b)
	}
	return out
}
