// Package remote asks a container registry questions over the network, with
// the credentials of the Docker config (DOCKER_CONFIG, ~/.docker/config.json)
// and plain HTTP where internal/imageref says so: one place that knows how
// cwlbuild reaches registries.
package remote

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/eoap/cwlbuild/internal/imageref"
)

// Digest asks the registry for the digest of image (a tag reference), using
// the Docker config's credentials.
func Digest(ctx context.Context, image string, insecure []string) (string, error) {
	desc, err := head(ctx, image, insecure)
	if err != nil {
		return "", fmt.Errorf("%s: %v", image, err)
	}
	return desc.Digest.String(), nil
}

// PlatformManifest is one platform's image in an image index.
type PlatformManifest struct {
	Platform string // os/arch[/variant]
	Digest   string
}

// IndexManifests lists the platform images of repo@digest when it is an
// image index, nil when it is one image. Entries without a platform, or of
// platform unknown/unknown (the attestation manifests BuildKit adds), are
// no platform's image and are left out.
func IndexManifests(ctx context.Context, repo, digest string, insecure []string) ([]PlatformManifest, error) {
	out, _, err := manifests(ctx, repo+"@"+digest, insecure)
	return out, err
}

// PushIndex makes an image index of images (each repo@digest in a
// PlatformManifest, already pushed), tags it image and returns its digest.
// Each image's config must name the platform it stands for: an arm64
// entry whose binaries are amd64 ones is the wrong image under the right
// name, what skaffold#9861 reports of Skaffold's multi-platform Kaniko pods.
// The index is a Docker manifest list when the images are Docker
// manifests (Kaniko's), else an OCI index.
func PushIndex(ctx context.Context, image string, images []PlatformManifest, insecure []string) (string, error) {
	tag, err := name.ParseReference(image, nameOptions(image, insecure)...)
	if err != nil {
		return "", fmt.Errorf("%s: %v", image, err)
	}
	opts := Options(ctx)
	mediaType := types.OCIImageIndex
	var adds []mutate.IndexAddendum
	for _, pm := range images {
		ref, err := name.NewDigest(tag.Context().Name()+"@"+pm.Digest, nameOptions(image, insecure)...)
		if err != nil {
			return "", fmt.Errorf("%s: %v", pm.Platform, err)
		}
		desc, err := remote.Get(ref, opts...)
		if err != nil {
			return "", fmt.Errorf("%s: %s: %v", pm.Platform, ref, err)
		}
		if desc.MediaType == types.DockerManifestSchema2 {
			mediaType = types.DockerManifestList
		}
		img, err := desc.Image()
		if err != nil {
			return "", fmt.Errorf("%s: %s: %v", pm.Platform, ref, err)
		}
		plat, err := v1.ParsePlatform(pm.Platform)
		if err != nil {
			return "", err
		}
		cfg, err := img.ConfigFile()
		if err != nil {
			return "", fmt.Errorf("%s: %s: reading its config: %v", pm.Platform, ref, err)
		}
		if got := samePlatform(cfg.OS, cfg.Architecture, cfg.Variant); got != samePlatform(plat.OS, plat.Architecture, plat.Variant) {
			return "", fmt.Errorf("%s: the image built for it, %s, says it is %s", pm.Platform, ref, got)
		}
		adds = append(adds, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: plat}})
	}
	idx := mutate.IndexMediaType(mutate.AppendManifests(empty.Index, adds...), mediaType)
	if err := remote.WriteIndex(tag, idx, opts...); err != nil {
		return "", fmt.Errorf("pushing the index %s: %v", image, err)
	}
	d, err := idx.Digest()
	if err != nil {
		return "", err
	}
	return d.String(), nil
}

// Platforms are image's platforms (image a tag or digest reference): its
// index's, or, for one image, its config's.
func Platforms(ctx context.Context, image string, insecure []string) ([]string, error) {
	index, own, err := manifests(ctx, image, insecure)
	if err != nil {
		return nil, err
	}
	if index == nil {
		return []string{own}, nil
	}
	var out []string
	for _, m := range index {
		out = append(out, m.Platform)
	}
	return out, nil
}

// manifests are image's platform images when it is an index; else nil and
// its own platform, from its config.
func manifests(ctx context.Context, image string, insecure []string) ([]PlatformManifest, string, error) {
	ref, err := name.ParseReference(image, nameOptions(image, insecure)...)
	if err != nil {
		return nil, "", err
	}
	desc, err := remote.Get(ref, Options(ctx)...)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %v", image, err)
	}
	if !desc.MediaType.IsIndex() {
		img, err := desc.Image()
		if err != nil {
			return nil, "", fmt.Errorf("%s: %v", image, err)
		}
		cfg, err := img.ConfigFile()
		if err != nil {
			return nil, "", fmt.Errorf("%s: %v", image, err)
		}
		return nil, platformString(cfg.OS, cfg.Architecture, cfg.Variant), nil
	}
	idx, err := desc.ImageIndex()
	if err != nil {
		return nil, "", fmt.Errorf("%s: %v", image, err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, "", fmt.Errorf("%s: %v", image, err)
	}
	var out []PlatformManifest
	for _, e := range m.Manifests {
		p := e.Platform
		if p == nil || p.OS == "" || p.OS == "unknown" {
			continue
		}
		out = append(out, PlatformManifest{Platform: platformString(p.OS, p.Architecture, p.Variant), Digest: e.Digest.String()})
	}
	if len(out) == 0 {
		return nil, "", fmt.Errorf("%s: an index of no platform's image", image)
	}
	return out, "", nil
}

func platformString(goos, arch, variant string) string {
	if variant != "" {
		return goos + "/" + arch + "/" + variant
	}
	return goos + "/" + arch
}

// samePlatform is platformString with arm64's default variant (v8)
// dropped, as OCI indexes write it.
func samePlatform(goos, arch, variant string) string {
	if arch == "arm64" && (variant == "v8" || variant == "8") {
		variant = ""
	}
	return platformString(goos, arch, variant)
}

// head asks the registry for image's descriptor, with the Docker config's
// credentials.
func head(ctx context.Context, image string, insecure []string) (*v1.Descriptor, error) {
	ref, err := name.ParseReference(image, nameOptions(image, insecure)...)
	if err != nil {
		return nil, err
	}
	return remote.Head(ref, Options(ctx)...)
}

// Registry timeouts: a registry that accepts the connection and never
// answers fails the call within these, naming the registry, instead of
// hanging a release; the command's --timeout bounds the whole.
var (
	DialTimeout     = 30 * time.Second
	TLSTimeout      = 15 * time.Second
	ResponseTimeout = time.Minute
)

// bounded is go-containerregistry's default transport with the timeouts
// above (it has none for the response).
var bounded = newBounded()

func newBounded() http.RoundTripper {
	t := remote.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: DialTimeout, KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = TLSTimeout
	t.ResponseHeaderTimeout = ResponseTimeout
	return t
}

// Options are the options of every registry call: ctx, the Docker
// config's credentials, and the bounded transport.
func Options(ctx context.Context) []remote.Option {
	return append(anonymous(ctx), remote.WithAuthFromKeychain(authn.DefaultKeychain))
}

// anonymous are Options without credentials (go-containerregistry refuses
// a keychain and an authenticator together).
func anonymous(ctx context.Context) []remote.Option {
	return []remote.Option{remote.WithContext(ctx), remote.WithTransport(bounded)}
}

// DigestIfExists is Digest, with found false (and no error) when the
// registry has no such tag.
func DigestIfExists(ctx context.Context, image string, insecure []string) (digest string, found bool, err error) {
	desc, err := head(ctx, image, insecure)
	if isNotFound(err) {
		return "", false, nil
	} else if err != nil {
		return "", false, fmt.Errorf("%s: %v", image, err)
	}
	return desc.Digest.String(), true, nil
}

// NeedsLogin asks the registry, anonymously, for image's manifest: true
// when it refuses (401 or 403), false when it serves it; an error when it
// cannot tell (no answer, no such image).
func NeedsLogin(ctx context.Context, image string, insecure []string) (bool, error) {
	ref, err := name.ParseReference(image, nameOptions(image, insecure)...)
	if err != nil {
		return false, fmt.Errorf("%s: %v", image, err)
	}
	_, err = remote.Head(ref, append(anonymous(ctx), remote.WithAuth(authn.Anonymous))...)
	var terr *transport.Error
	switch {
	case err == nil:
		return false, nil
	case errors.As(err, &terr) && (terr.StatusCode == http.StatusUnauthorized || terr.StatusCode == http.StatusForbidden):
		return true, nil
	}
	return false, fmt.Errorf("%s: %v", image, err)
}

// nameOptions reach a registry over plain HTTP where Docker would: loopback
// registries, and the ones listed insecure.
func nameOptions(image string, insecure []string) []name.Option {
	if imageref.IsInsecure(image, insecure) {
		return []name.Option{name.Insecure}
	}
	return nil
}

// File is one blob of an artifact: its bytes and media type, and the
// annotations of its descriptor (oras names the pulled file after
// org.opencontainers.image.title).
type File struct {
	Data        []byte
	MediaType   string
	Annotations map[string]string
}

// Artifact is an OCI artifact: an image manifest whose config is the empty
// descriptor and whose layers are files, typed by ArtifactType, as the OCI
// image spec 1.1 describes artifacts (what `oras push` writes).
type Artifact struct {
	ArtifactType string
	Files        []File
	Annotations  map[string]string
}

// emptyConfig is the OCI empty descriptor's content, "{}".
var emptyConfig = []byte("{}")

const emptyMediaType = "application/vnd.oci.empty.v1+json"

// Manifest is the artifact's manifest, byte for byte as it is pushed.
func (a *Artifact) Manifest() ([]byte, error) {
	m := struct {
		SchemaVersion int               `json:"schemaVersion"`
		MediaType     string            `json:"mediaType"`
		ArtifactType  string            `json:"artifactType"`
		Config        descriptor        `json:"config"`
		Layers        []descriptor      `json:"layers"`
		Annotations   map[string]string `json:"annotations,omitempty"`
	}{
		SchemaVersion: 2,
		MediaType:     string(types.OCIManifestSchema1),
		ArtifactType:  a.ArtifactType,
		Config:        descriptor{MediaType: emptyMediaType, Digest: sha256Digest(emptyConfig), Size: len(emptyConfig), Data: emptyConfig},
		Annotations:   a.Annotations,
	}
	for _, f := range a.Files {
		m.Layers = append(m.Layers, descriptor{MediaType: f.MediaType, Digest: sha256Digest(f.Data), Size: len(f.Data), Annotations: f.Annotations})
	}
	return json.Marshal(m)
}

func sha256Digest(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// descriptor is an OCI content descriptor as manifests write it.
type descriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int               `json:"size"`
	Data        []byte            `json:"data,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// rawManifest is a manifest remote.Put sends as it is.
type rawManifest struct{ data []byte }

func (r rawManifest) RawManifest() ([]byte, error)        { return r.data, nil }
func (r rawManifest) MediaType() (types.MediaType, error) { return types.OCIManifestSchema1, nil }

// Push uploads the artifact's blobs, then its manifest under each tag of
// repo (the first tag first), with the Docker config's credentials, and
// returns the manifest's digest.
func Push(ctx context.Context, repo string, tags []string, a *Artifact, insecure []string) (string, error) {
	if err := PushBlobs(ctx, repo, a, insecure); err != nil {
		return "", err
	}
	return PushManifest(ctx, repo, tags, a, insecure)
}

// PushBlobs uploads the artifact's blobs (its config and files) to repo:
// nothing a registry serves under a tag yet.
func PushBlobs(ctx context.Context, repo string, a *Artifact, insecure []string) error {
	r, opts, err := repository(ctx, repo, insecure)
	if err != nil {
		return err
	}
	blobs := [][2]string{{emptyMediaType, string(emptyConfig)}}
	for _, f := range a.Files {
		blobs = append(blobs, [2]string{f.MediaType, string(f.Data)})
	}
	for _, b := range blobs {
		if err := remote.WriteLayer(r, static.NewLayer([]byte(b[1]), types.MediaType(b[0])), opts...); err != nil {
			return fmt.Errorf("pushing a blob to %s: %v", repo, err)
		}
	}
	return nil
}

// PushManifest puts the artifact's manifest under each tag of repo, the
// first tag first, once its blobs are there (PushBlobs), and returns the
// manifest's digest.
func PushManifest(ctx context.Context, repo string, tags []string, a *Artifact, insecure []string) (string, error) {
	manifest, err := a.Manifest()
	if err != nil {
		return "", err
	}
	r, opts, err := repository(ctx, repo, insecure)
	if err != nil {
		return "", err
	}
	for _, tag := range tags {
		if err := remote.Put(r.Tag(tag), rawManifest{manifest}, opts...); err != nil {
			return "", fmt.Errorf("pushing %s:%s: %v", repo, tag, err)
		}
	}
	return sha256Digest(manifest), nil
}

func repository(ctx context.Context, repo string, insecure []string) (name.Repository, []remote.Option, error) {
	r, err := name.NewRepository(repo, nameOptions(repo, insecure)...)
	if err != nil {
		return name.Repository{}, nil, fmt.Errorf("%s: %v", repo, err)
	}
	return r, Options(ctx), nil
}

// Cosign's layout of a signature: the manifest tagged sha256-HEX.sig in the
// signed manifest's repository, one layer per signature (ECDSA signatures
// are randomized: signing again adds one).
const (
	SimpleSigningMediaType = "application/vnd.dev.cosign.simplesigning.v1+json"
	SignatureAnnotation    = "dev.cosignproject.cosign/signature"
)

// SignatureTag is the tag cosign keeps a digest's signatures under.
func SignatureTag(digest string) string {
	return strings.Replace(digest, ":", "-", 1) + ".sig"
}

// AttachSignature adds one signature (payload, and sig in base64) of the
// manifest digest in repo, as cosign does: a layer appended to the
// manifest at SignatureTag(digest), the signatures already there kept.
// same, when given, says whether a layer there already is this signature
// (the same payload signed by the same key): then nothing is added, so a
// second release of an unchanged image does not pile up signatures.
func AttachSignature(ctx context.Context, repo, digest string, payload []byte, sig string, insecure []string, same func(Layer) bool) error {
	return appendLayer(ctx, repo, SignatureTag(digest), payload, SimpleSigningMediaType, map[string]string{SignatureAnnotation: sig}, insecure, same)
}

// Cosign's layout of an attestation: a DSSE envelope as a layer of the
// manifest tagged sha256-HEX.att, annotated with its predicate type.
const DSSEMediaType = "application/vnd.dsse.envelope.v1+json"

// AttestationTag is the tag cosign keeps a digest's attestations under.
func AttestationTag(digest string) string {
	return strings.Replace(digest, ":", "-", 1) + ".att"
}

// AttachAttestation adds a signed attestation (a DSSE envelope) of the
// manifest digest in repo, as `cosign attest` does; attestations already
// there are kept, and same (as for AttachSignature) keeps an equal
// statement by the same key from being added twice.
func AttachAttestation(ctx context.Context, repo, digest string, envelope []byte, predicateType string, insecure []string, same func(Layer) bool) error {
	return appendLayer(ctx, repo, AttestationTag(digest), envelope, DSSEMediaType,
		map[string]string{SignatureAnnotation: "", "predicateType": predicateType}, insecure, same)
}

// appendAttempts bounds the read-back loop of appendLayer.
const appendAttempts = 10

// appendLayer appends one layer to the manifest at repo:tag, making an
// empty OCI image when there is none; an identical layer (or one same
// accepts) is not added again. A registry has no compare-and-swap on a
// tag: two signers at once both read the old manifest and the second push
// drops the first one's layer. So the tag is read back after the push, and
// while the layer is missing from it (a concurrent writer won), the append
// is made again on what the tag holds now.
func appendLayer(ctx context.Context, repo, tagName string, data []byte, mediaType types.MediaType, annotations map[string]string, insecure []string, same func(Layer) bool) error {
	r, opts, err := repository(ctx, repo, insecure)
	if err != nil {
		return err
	}
	tag := r.Tag(tagName)
	layer := static.NewLayer(data, mediaType)
	d, err := layer.Digest()
	if err != nil {
		return err
	}
	pushed := false
	for attempt := 1; ; attempt++ {
		base := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
		old, err := remote.Image(tag, opts...)
		switch {
		case err == nil:
			present, err := holds(old, d, annotations, same)
			if err != nil {
				return fmt.Errorf("reading %s: %v", tag, err)
			}
			if present && !pushed {
				return nil // there already
			}
			if present {
				// Ours is there; a writer that read the tag before our push
				// pushes within moments: look once more after those.
				if err := pause(ctx, settle); err != nil {
					return err
				}
				again, err := remote.Image(tag, opts...)
				if err != nil {
					return fmt.Errorf("reading %s: %v", tag, err)
				}
				if ok, err := holds(again, d, annotations, same); err != nil || ok {
					return err
				}
				continue
			}
			base = old
		case !isNotFound(err):
			return fmt.Errorf("reading %s: %v", tag, err)
		}
		if attempt > appendAttempts {
			return fmt.Errorf("pushing %s: %d other writers replaced it while this one was adding its layer", tag, appendAttempts)
		}
		img, err := mutate.Append(base, mutate.Addendum{Layer: layer, Annotations: annotations, MediaType: mediaType})
		if err != nil {
			return err
		}
		if err := remote.Write(tag, img, opts...); err != nil {
			return fmt.Errorf("pushing %s: %v", tag, err)
		}
		pushed = true
		// Read back at the top of the loop; after a lost update, a short
		// random pause first, so that writers do not collide in step.
		if attempt > 1 {
			if err := pause(ctx, time.Duration(rand.Int64N(int64(attempt)*int64(50*time.Millisecond)))); err != nil {
				return err
			}
		}
	}
}

// settle is how long appendLayer waits before its last read-back: longer
// than another writer's read, append and push.
var settle = 250 * time.Millisecond

func pause(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// holds says whether img has the layer of digest d with the same signature
// annotation, or one same accepts.
func holds(img v1.Image, d v1.Hash, annotations map[string]string, same func(Layer) bool) (bool, error) {
	m, err := img.Manifest()
	if err != nil {
		return false, err
	}
	for _, l := range m.Layers {
		if l.Digest == d && l.Annotations[SignatureAnnotation] == annotations[SignatureAnnotation] {
			return true, nil
		}
	}
	if same == nil {
		return false, nil
	}
	for _, l := range m.Layers {
		layer, err := img.LayerByDigest(l.Digest)
		if err != nil {
			return false, err
		}
		rc, err := layer.Uncompressed()
		if err != nil {
			return false, err
		}
		data, err := io.ReadAll(io.LimitReader(rc, 16<<20))
		rc.Close()
		if err != nil {
			return false, err
		}
		if same(Layer{MediaType: string(l.MediaType), Annotations: l.Annotations, Data: data}) {
			return true, nil
		}
	}
	return false, nil
}

// Layer is one layer of a manifest, read whole: signatures, attestations,
// an artifact's file.
type Layer struct {
	MediaType   string
	Annotations map[string]string
	Data        []byte
}

// Layers reads every layer of repo's manifest reference (a tag or a
// digest); none, and no error, when there is no such manifest.
func Layers(ctx context.Context, repo, reference string, insecure []string) ([]Layer, error) {
	r, opts, err := repository(ctx, repo, insecure)
	if err != nil {
		return nil, err
	}
	var ref name.Reference = r.Tag(reference)
	if strings.HasPrefix(reference, "sha256:") {
		ref = r.Digest(reference)
	}
	desc, err := remote.Get(ref, opts...)
	if isNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %v", ref, err)
	}
	var m struct {
		Layers []struct {
			MediaType   string            `json:"mediaType"`
			Digest      string            `json:"digest"`
			Annotations map[string]string `json:"annotations"`
		} `json:"layers"`
	}
	if err := json.Unmarshal(desc.Manifest, &m); err != nil {
		return nil, fmt.Errorf("reading %s: %v", ref, err)
	}
	var out []Layer
	for _, l := range m.Layers {
		h, err := v1.NewHash(l.Digest)
		if err != nil {
			return nil, fmt.Errorf("%s: layer %s: %v", ref, l.Digest, err)
		}
		blob, err := remote.Layer(r.Digest(h.String()), opts...)
		if err != nil {
			return nil, err
		}
		rc, err := blob.Compressed()
		if err != nil {
			return nil, fmt.Errorf("%s: layer %s: %v", ref, l.Digest, err)
		}
		data, err := io.ReadAll(io.LimitReader(rc, 64<<20))
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: layer %s: %v", ref, l.Digest, err)
		}
		if sha256Digest(data) != l.Digest {
			return nil, fmt.Errorf("%s: layer %s: the registry served other bytes", ref, l.Digest)
		}
		out = append(out, Layer{MediaType: l.MediaType, Annotations: l.Annotations, Data: data})
	}
	return out, nil
}

// AttachReferrer pushes data as an OCI 1.1 artifact of artifactType whose
// subject is repo@digest: found through the Referrers API, or through the
// fallback tag sha256-HEX, which go-containerregistry keeps up to date on
// registries without it. Returns the artifact's digest.
func AttachReferrer(ctx context.Context, repo, digest, artifactType string, data []byte, insecure []string) (string, error) {
	r, opts, err := repository(ctx, repo, insecure)
	if err != nil {
		return "", err
	}
	return pushReferrer(r, opts, digest, artifactType, data, nil)
}

// pushReferrer pushes data as the one layer (of media type artifactType)
// of an artifact whose subject is digest, with the manifest annotations.
func pushReferrer(r name.Repository, opts []remote.Option, digest, artifactType string, data []byte, annotations map[string]string) (string, error) {
	subject, err := remote.Head(r.Digest(digest), opts...)
	if err != nil {
		return "", fmt.Errorf("%s@%s: %v", r, digest, err)
	}
	for _, b := range [][2]string{{emptyMediaType, string(emptyConfig)}, {artifactType, string(data)}} {
		if err := remote.WriteLayer(r, static.NewLayer([]byte(b[1]), types.MediaType(b[0])), opts...); err != nil {
			return "", fmt.Errorf("pushing a blob to %s: %v", r, err)
		}
	}
	m := map[string]any{
		"schemaVersion": 2,
		"mediaType":     types.OCIManifestSchema1,
		"artifactType":  artifactType,
		"config":        descriptor{MediaType: emptyMediaType, Digest: sha256Digest(emptyConfig), Size: len(emptyConfig), Data: emptyConfig},
		"layers":        []descriptor{{MediaType: artifactType, Digest: sha256Digest(data), Size: len(data)}},
		"subject":       map[string]any{"mediaType": subject.MediaType, "digest": subject.Digest.String(), "size": subject.Size},
	}
	if len(annotations) > 0 {
		m["annotations"] = annotations
	}
	manifest, err := json.Marshal(m)
	if err != nil {
		return "", err
	}
	d := sha256Digest(manifest)
	if err := remote.Put(r.Digest(d), rawManifest{manifest}, opts...); err != nil {
		return "", fmt.Errorf("pushing the %s referrer of %s@%s: %v", artifactType, r, digest, err)
	}
	return d, nil
}

// Cosign v3's layout of a Sigstore bundle: an OCI 1.1 referrer of the
// signed manifest whose artifact type and one layer are the bundle's media
// type, annotated with what the bundle holds and the predicate type of its
// statement (a signature's is https://sigstore.dev/cosign/sign/v1).
const (
	bundleContentAnnotation       = "dev.sigstore.bundle.content"
	bundlePredicateTypeAnnotation = "dev.sigstore.bundle.predicateType"
)

// AttachBundle attaches a Sigstore bundle (of mediaType, holding a DSSE
// envelope of a statement of predicateType) to repo@digest as cosign v3
// does, and returns the referrer's digest. A bundle already attached that
// same accepts (the same statement by the same key; a new signature of it
// differs byte for byte) is kept instead, so that a second release of an
// unchanged image adds nothing. On a registry without the Referrers API
// the referrer is listed in the fallback tag, which has no
// compare-and-swap: like appendLayer, the list is read back after the
// push, and the push made again while a concurrent writer's list dropped
// it.
func AttachBundle(ctx context.Context, repo, digest, mediaType string, bundle []byte, predicateType string, insecure []string, same func([]byte) bool) (string, error) {
	r, opts, err := repository(ctx, repo, insecure)
	if err != nil {
		return "", err
	}
	if same != nil {
		attached, err := Bundles(ctx, repo, digest, mediaType, insecure)
		if err != nil {
			return "", err
		}
		for _, b := range attached {
			if same(b.Data) {
				return b.Digest, nil
			}
		}
	}
	annotations := map[string]string{bundleContentAnnotation: "dsse-envelope", bundlePredicateTypeAnnotation: predicateType}
	var d string
	listed := func() (bool, error) {
		refs, err := Referrers(ctx, repo, digest, []string{mediaType}, insecure)
		if err != nil {
			return false, err
		}
		for _, ref := range refs {
			if ref.Digest == d {
				return true, nil
			}
		}
		return false, nil
	}
	for attempt := 1; attempt <= appendAttempts; attempt++ {
		if d, err = pushReferrer(r, opts, digest, mediaType, bundle, annotations); err != nil {
			return "", err
		}
		ok, err := listed()
		if err == nil && ok {
			// Listed; a writer that read the list before our push writes
			// within moments: look once more after those.
			if err := pause(ctx, settle); err != nil {
				return "", err
			}
			ok, err = listed()
		}
		if err != nil {
			return "", fmt.Errorf("reading the referrers of %s@%s: %v", repo, digest, err)
		}
		if ok {
			return d, nil
		}
		if err := pause(ctx, time.Duration(rand.Int64N(int64(attempt)*int64(50*time.Millisecond)))); err != nil {
			return "", err
		}
	}
	return "", fmt.Errorf("pushing the bundle referrer of %s@%s: %d other writers replaced the referrers list while this one was adding to it", repo, digest, appendAttempts)
}

// Bundle is one attached Sigstore bundle: the referrer's digest and the
// bundle's bytes.
type Bundle struct {
	Digest string
	Data   []byte
}

// Bundles reads every referrer of repo@digest of the bundle mediaType.
func Bundles(ctx context.Context, repo, digest, mediaType string, insecure []string) ([]Bundle, error) {
	refs, err := Referrers(ctx, repo, digest, []string{mediaType}, insecure)
	if err != nil {
		return nil, err
	}
	var out []Bundle
	for _, d := range refs {
		ref, err := ReadReferrer(ctx, repo, d.Digest, insecure)
		if errors.Is(err, errNotReferrer) {
			continue // anyone who may push can list such a thing: not a bundle
		}
		if err != nil {
			return nil, err
		}
		if ref.Subject == digest {
			out = append(out, Bundle{Digest: d.Digest, Data: ref.Data})
		}
	}
	return out, nil
}

// HasReferrer reports whether an artifact of one of the artifact types
// refers to repo@digest: the OCI 1.1 Referrers API, or its fallback tag
// (sha256-HEX) on registries without it.
func HasReferrer(ctx context.Context, repo, digest string, artifactTypes []string, insecure []string) (bool, error) {
	refs, err := Referrers(ctx, repo, digest, artifactTypes, insecure)
	return len(refs) > 0, err
}

// ReferrerDesc is a referrer as the index lists it.
type ReferrerDesc struct{ Digest, ArtifactType string }

// Referrers are the artifacts of the artifact types that refer to
// repo@digest (the Referrers API or its fallback tag).
func Referrers(ctx context.Context, repo, digest string, artifactTypes []string, insecure []string) ([]ReferrerDesc, error) {
	r, opts, err := repository(ctx, repo, insecure)
	if err != nil {
		return nil, err
	}
	idx, err := remote.Referrers(r.Digest(digest), opts...)
	if isNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	var out []ReferrerDesc
	for _, d := range m.Manifests {
		typ := d.ArtifactType
		if typ == "" || typ == emptyMediaType {
			// A registry that lists the config's media type (as OCI 1.1's
			// drafts said, and go-containerregistry's registry does): the
			// artifact type is in the manifest.
			if typ, err = manifestArtifactType(r.Digest(d.Digest.String()), opts); err != nil {
				return nil, err
			}
		}
		for _, t := range artifactTypes {
			if typ == t {
				out = append(out, ReferrerDesc{d.Digest.String(), t})
			}
		}
	}
	return out, nil
}

// manifestArtifactType reads a manifest's artifact type: its artifactType,
// else its config's media type.
func manifestArtifactType(ref name.Digest, opts []remote.Option) (string, error) {
	desc, err := remote.Get(ref, opts...)
	if err != nil {
		return "", fmt.Errorf("%s: %v", ref, err)
	}
	var m struct {
		ArtifactType string `json:"artifactType"`
		Config       struct {
			MediaType string `json:"mediaType"`
		} `json:"config"`
	}
	if json.Unmarshal(desc.Manifest, &m) != nil {
		return "", nil // not a manifest: of no type asked for
	}
	if m.ArtifactType != "" {
		return m.ArtifactType, nil
	}
	return m.Config.MediaType, nil
}

// errNotReferrer is a manifest listed as a referrer that is not one of one
// file, or whose file is not what it says.
var errNotReferrer = errors.New("not a referrer of one file")

// Referrer is an artifact that refers to another manifest: its subject's
// digest, its artifact type, and its one file.
type Referrer struct {
	Subject, ArtifactType string
	Data                  []byte
}

// ReadReferrer reads the referrer repo@digest (one layer, at most 64 MiB).
func ReadReferrer(ctx context.Context, repo, digest string, insecure []string) (*Referrer, error) {
	r, opts, err := repository(ctx, repo, insecure)
	if err != nil {
		return nil, err
	}
	desc, err := remote.Get(r.Digest(digest), opts...)
	if err != nil {
		return nil, fmt.Errorf("%s@%s: %v", repo, digest, err)
	}
	var m struct {
		ArtifactType string `json:"artifactType"`
		Subject      *struct {
			Digest string `json:"digest"`
		} `json:"subject"`
		Layers []struct {
			Digest string `json:"digest"`
		} `json:"layers"`
	}
	if err := json.Unmarshal(desc.Manifest, &m); err != nil || m.Subject == nil || len(m.Layers) != 1 {
		return nil, fmt.Errorf("%s@%s: %w", repo, digest, errNotReferrer)
	}
	h, err := v1.NewHash(m.Layers[0].Digest)
	if err != nil {
		return nil, fmt.Errorf("%s@%s: %v", repo, digest, err)
	}
	blob, err := remote.Layer(r.Digest(h.String()), opts...)
	if err != nil {
		return nil, err
	}
	rc, err := blob.Compressed()
	if err != nil {
		return nil, fmt.Errorf("%s@%s: %v", repo, h, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("%s@%s: %v", repo, h, err)
	}
	if sha256Digest(data) != h.String() {
		return nil, fmt.Errorf("%s@%s: the file does not match its digest: %w", repo, h, errNotReferrer)
	}
	return &Referrer{Subject: m.Subject.Digest, ArtifactType: m.ArtifactType, Data: data}, nil
}

// isNotFound reports a registry's "no such manifest".
func isNotFound(err error) bool {
	var terr *transport.Error
	return errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound
}

// Built is an image read once (its config) for the questions asked of it:
// which images it was built on.
type Built struct {
	digest   string
	cfg      *v1.ConfigFile
	opts     []remote.Option
	insecure []string
}

// ReadBuilt reads the config of repo@digest.
func ReadBuilt(ctx context.Context, repo, digest string, insecure []string) (*Built, error) {
	r, opts, err := repository(ctx, repo, insecure)
	if err != nil {
		return nil, err
	}
	img, err := remote.Image(r.Digest(digest), opts...)
	if err != nil {
		return nil, fmt.Errorf("%s@%s: %v", repo, digest, err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("%s@%s: %v", repo, digest, err)
	}
	return &Built{digest: digest, cfg: cfg, opts: opts, insecure: insecure}, nil
}

// BuiltOn reports whether the image base (a tag or digest reference)
// names, today, the base image b was built on: the layers (by uncompressed
// diff ID, so recompression does not matter) of base's image for b's
// platform are the first layers of b. It returns the digest base resolves
// to (an index's, when it is one: what a FROM line would pin). A base tag
// moved since the build is reported as not the base, never guessed at.
func (b *Built) BuiltOn(base string) (string, bool, error) {
	ref, err := name.ParseReference(base, nameOptions(base, b.insecure)...)
	if err != nil {
		return "", false, fmt.Errorf("%s: %v", base, err)
	}
	cfg := b.cfg
	desc, err := remote.Get(ref, append(b.opts, remote.WithPlatform(v1.Platform{OS: cfg.OS, Architecture: cfg.Architecture, Variant: cfg.Variant}))...)
	if err != nil {
		return "", false, fmt.Errorf("%s: %v", base, err)
	}
	img, err := desc.Image()
	if err != nil {
		return "", false, fmt.Errorf("%s: %v", base, err)
	}
	baseCfg, err := img.ConfigFile()
	if err != nil {
		return "", false, fmt.Errorf("%s: %v", base, err)
	}
	// An image is not its own base (a tag moved onto the built image).
	if d, err := img.Digest(); err != nil || d.String() == b.digest {
		return desc.Digest.String(), false, err
	}
	ids, baseIDs := cfg.RootFS.DiffIDs, baseCfg.RootFS.DiffIDs
	if len(baseIDs) == 0 || len(baseIDs) > len(ids) {
		return desc.Digest.String(), false, nil
	}
	for i, id := range baseIDs {
		if ids[i] != id {
			return desc.Digest.String(), false, nil
		}
	}
	return desc.Digest.String(), true, nil
}
