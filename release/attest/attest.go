// Package attest is the release's signing stage: it signs image and
// artifact digests and attests their SLSA provenance the way cosign does,
// in cosign's legacy format (REPO:sha256-HEX.sig and .att tags, which
// cosign 2.x and Kyverno's Cosign type read) and as Sigstore bundles, OCI
// 1.1 referrers (cosign v3's default, Kyverno's SigstoreBundle type). A
// signature or statement already there by the same key is not added twice.
package attest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/eoap/cwlbuild/build"
	"github.com/eoap/cwlbuild/builder"
	"github.com/eoap/cwlbuild/cwlpatch"
	"github.com/eoap/cwlbuild/internal/registry/remote"
	"github.com/eoap/cwlbuild/internal/sbomformat"
	"github.com/eoap/cwlbuild/internal/sign"
	"github.com/eoap/cwlbuild/release/provenance"
	"github.com/eoap/cwlbuild/skaffold"
)

// Formats are the formats a signature or an attestation is written in:
// cosign's legacy tags, the Sigstore bundle, or both.
type Formats struct{ Legacy, Bundle bool }

// ParseFormats reads --signature-format: both, bundle or legacy.
func ParseFormats(v string) (Formats, error) {
	switch v {
	case "both":
		return Formats{Legacy: true, Bundle: true}, nil
	case "bundle":
		return Formats{Bundle: true}, nil
	case "legacy":
		return Formats{Legacy: true}, nil
	}
	return Formats{}, fmt.Errorf("--signature-format %q: want both, bundle or legacy", v)
}

// Signer signs payloads: a cosign key (LoadKey), or a program's own.
type Signer = sign.Signer

// LoadKey decrypts a cosign private key (`cosign generate-key-pair`) with
// its password; the errors never quote the key or the password.
func LoadKey(pemData, password []byte) (Signer, error) { return sign.LoadKey(pemData, password) }

// Options are how Sign, Image and Workflow sign and where they report.
type Options struct {
	Signer   Signer
	Formats  Formats
	Insecure []string  // registries reached over plain HTTP
	Out      io.Writer // one line per subject signed or attested (nil: none)
	Log      io.Writer // notes: the base images a statement records (nil: none)
}

func (o Options) out() io.Writer { return orDiscard(o.Out) }
func (o Options) log() io.Writer { return orDiscard(o.Log) }

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

// pub is what verifies this key's signatures: a layer or bundle it
// verifies that holds the same payload is not added again.
func (o Options) pub() *ecdsa.PublicKey {
	pub, _ := o.Signer.Public().(*ecdsa.PublicKey)
	return pub
}

// Pins are the images the package's workflows pin by digest: what sign,
// attest and sbom work on when no image is named.
func Pins(plan *builder.Plan) ([]build.Built, error) {
	pinned, err := cwlpatch.PinnedImages(plan)
	if err != nil {
		return nil, err
	}
	var out []build.Built
	for _, p := range pinned {
		b, err := build.ParseBuilt(p.Ref)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p.Place, err)
		}
		out = append(out, b)
	}
	return out, nil
}

// WithPlatformImages is images with, after each that is an image index,
// each of its platform images (by digest), the index's Platforms filled:
// what sign, attest and sbom work on, so that the images a runner of any
// platform pulls are signed, attested and described, not the index alone.
func WithPlatformImages(ctx context.Context, images []build.Built, insecure []string) ([]build.Built, error) {
	var out []build.Built
	for _, b := range images {
		platforms, err := remote.IndexManifests(ctx, b.Repo, b.Digest, insecure)
		if err != nil {
			return nil, err
		}
		b.Platforms = nil
		for _, p := range platforms {
			b.Platforms = append(b.Platforms, build.PlatformImage{Platform: p.Platform, Digest: p.Digest})
		}
		out = append(out, b)
		for _, p := range b.Platforms {
			out = append(out, build.Built{Repo: b.Repo, Digest: p.Digest})
		}
	}
	return out, nil
}

// Sign signs the image's digest in each of opts' formats.
func Sign(ctx context.Context, r build.Built, opts Options) error {
	ref := r.Ref()
	pub := opts.pub()
	var where []string
	if opts.Formats.Legacy {
		payload := sign.Payload(r.Repo, r.Digest)
		sig, err := opts.Signer.Sign(payload)
		if err != nil {
			return err
		}
		same := func(l remote.Layer) bool {
			return pub != nil && bytes.Equal(l.Data, payload) && sign.Verify(pub, l.Data, l.Annotations[remote.SignatureAnnotation])
		}
		if err := remote.AttachSignature(ctx, r.Repo, r.Digest, payload, sig, opts.Insecure, same); err != nil {
			return fmt.Errorf("%s: %w", ref, err)
		}
		where = append(where, r.Repo+":"+remote.SignatureTag(r.Digest))
	}
	if opts.Formats.Bundle {
		statement, err := sign.SignStatement(r.Digest)
		if err != nil {
			return fmt.Errorf("%s: %w", ref, err)
		}
		d, err := attachBundle(ctx, r, statement, sign.SignPredicateType, opts)
		if err != nil {
			return fmt.Errorf("%s: %w", ref, err)
		}
		where = append(where, "bundle "+r.Repo+"@"+d)
	}
	fmt.Fprintf(opts.out(), "signed %s@%s (%s)\n", r.Repo, r.Digest, strings.Join(where, ", "))
	return nil
}

// Image attests the provenance of an image: the statement names the
// tool's base images (with their digests where known) and binds the SBOM
// referrers the image has now, so that verify accepts no other.
func Image(ctx context.Context, plan *builder.Plan, r build.Built, opts Options) error {
	ref := r.Ref()
	st, err := provenance.Image(plan, r.Repo, r.Digest, baseImages(ctx, plan, r, opts))
	if err != nil {
		return fmt.Errorf("%s: %w", ref, err)
	}
	sboms, err := remote.Referrers(ctx, r.Repo, r.Digest, sbomformat.MediaTypes, opts.Insecure)
	if err != nil {
		return fmt.Errorf("%s: %w", ref, err)
	}
	for _, d := range sboms {
		st.AddSBOM(d.Digest, d.ArtifactType)
	}
	if err := attach(ctx, r, st, opts); err != nil {
		return fmt.Errorf("%s: %w", ref, err)
	}
	return nil
}

// Workflow attests a published workflow artifact: its subjects are the
// artifact and every [[workflows]] file, and it lists the image digests
// they pin (pins).
func Workflow(ctx context.Context, plan *builder.Plan, r build.Built, pins []build.Built, opts Options) error {
	ref := r.Ref()
	refs := make([]string, len(pins))
	for i, p := range pins {
		refs[i] = p.Ref()
	}
	st, err := provenance.Workflow(plan, r.Repo, r.Digest, refs)
	if err == nil {
		err = attach(ctx, r, st, opts)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", ref, err)
	}
	return nil
}

// attach signs st as a DSSE envelope and attaches it to r in each of
// opts' formats, unless the same statement by the same key is there.
func attach(ctx context.Context, r build.Built, st *provenance.Statement, opts Options) error {
	payload, err := json.Marshal(st)
	if err != nil {
		return err
	}
	pub := opts.pub()
	var where []string
	if opts.Formats.Legacy {
		env, err := sign.Envelope(opts.Signer, sign.InTotoPayloadType, payload)
		if err != nil {
			return err
		}
		same := func(l remote.Layer) bool {
			if pub == nil {
				return false
			}
			typ, p, err := sign.OpenEnvelope(pub, l.Data)
			return err == nil && typ == sign.InTotoPayloadType && bytes.Equal(p, payload)
		}
		if err := remote.AttachAttestation(ctx, r.Repo, r.Digest, env, st.PredicateType, opts.Insecure, same); err != nil {
			return err
		}
		where = append(where, r.Repo+":"+remote.AttestationTag(r.Digest))
	}
	if opts.Formats.Bundle {
		d, err := attachBundle(ctx, r, payload, st.PredicateType, opts)
		if err != nil {
			return err
		}
		where = append(where, "bundle "+r.Repo+"@"+d)
	}
	fmt.Fprintf(opts.out(), "attested %s@%s (%s)\n", r.Repo, r.Digest, strings.Join(where, ", "))
	return nil
}

// attachBundle signs statement (an in-toto statement about r's digest) in
// a Sigstore bundle and attaches it to r, unless a bundle of the same
// statement by the same key is there already; it returns the referrer's
// digest.
func attachBundle(ctx context.Context, r build.Built, statement []byte, predicateType string, opts Options) (string, error) {
	b, err := sign.Bundle(opts.Signer, statement)
	if err != nil {
		return "", err
	}
	pub := opts.pub()
	same := func(data []byte) bool {
		if pub == nil {
			return false
		}
		p, err := sign.OpenBundle(pub, data)
		return err == nil && bytes.Equal(p, statement)
	}
	return remote.AttachBundle(ctx, r.Repo, r.Digest, sign.BundleMediaType, b, predicateType, opts.Insecure, same)
}

// baseImages are the base images of the tool that builds r, each with its
// digest where it is known: the first place the build reads it from whose
// image's layers start r's. A base that cannot be read, or whose tag has
// moved since the build, is recorded by name only, and opts.Log says so.
func baseImages(ctx context.Context, plan *builder.Plan, r build.Built, opts Options) []provenance.Base {
	tool := provenance.ToolOf(plan, r.Repo)
	if tool == "" {
		return nil
	}
	images, err := skaffold.BaseImages(plan, tool)
	if err != nil {
		fmt.Fprintf(opts.log(), "cwlbuild attest: %s: base images not recorded: %v\n", tool, err)
		return nil
	}
	built, readErr := remote.ReadBuilt(ctx, r.Repo, r.Digest, opts.Insecure)
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
			fmt.Fprintf(opts.log(), "cwlbuild attest: %s: base image %s is %s@%s\n", tool, img.Name, b.Pulled, b.Digest)
		} else if i == len(images)-1 {
			// Only the last stage's base can be checked: the others'
			// layers are not in the image.
			fmt.Fprintf(opts.log(), "cwlbuild attest: %s: base image %s recorded without a digest (%s)\n", tool, img.Name, strings.Join(why, "; "))
		}
		out = append(out, b)
	}
	return out
}
