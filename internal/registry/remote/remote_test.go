package remote

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/eoap/cwlbuild/internal/testenv"
)

// TestPushAndDigest: the artifact's blobs and manifest land under every
// tag; the returned digest is the manifest's, what Digest then reads for
// each tag, and the manifest is the OCI artifact form byte for byte.
func TestPushAndDigest(t *testing.T) {
	host := testenv.MemoryRegistry(t)
	ctx := context.Background()
	a := &Artifact{
		ArtifactType: "application/cwl",
		Files:        []File{{Data: []byte("cwlVersion: v1.2\n"), MediaType: "application/cwl+yaml", Annotations: map[string]string{"org.opencontainers.image.title": "app.cwl"}}},
		Annotations:  map[string]string{"org.opencontainers.image.version": "1.0"},
	}
	repo := host + "/eoap/app"
	digest, err := Push(ctx, repo, []string{"1.0", "latest"}, a, nil)
	if err != nil {
		t.Fatal(err)
	}
	manifest, _ := a.Manifest()
	if digest != sha256Digest(manifest) {
		t.Errorf("Push returned %s, the manifest is %s", digest, sha256Digest(manifest))
	}
	for _, tag := range []string{"1.0", "latest"} {
		got, err := Digest(ctx, repo+":"+tag, nil)
		if err != nil || got != digest {
			t.Errorf("Digest(%s) = %s %v, want %s", tag, got, err, digest)
		}
	}
	ref, _ := name.ParseReference(repo+":1.0", name.Insecure)
	desc, err := remote.Get(ref)
	if err != nil {
		t.Fatal(err)
	}
	if string(desc.Manifest) != string(manifest) {
		t.Errorf("served manifest\n%s\nwant\n%s", desc.Manifest, manifest)
	}
	var m struct {
		SchemaVersion int    `json:"schemaVersion"`
		MediaType     string `json:"mediaType"`
		ArtifactType  string `json:"artifactType"`
		Config        struct {
			MediaType, Digest, Data string
			Size                    int
		} `json:"config"`
		Layers []struct {
			MediaType, Digest string
			Size              int
			Annotations       map[string]string
		} `json:"layers"`
		Annotations map[string]string `json:"annotations"`
	}
	if err := json.Unmarshal(manifest, &m); err != nil {
		t.Fatal(err)
	}
	if m.SchemaVersion != 2 || m.MediaType != "application/vnd.oci.image.manifest.v1+json" || m.ArtifactType != "application/cwl" ||
		m.Config.MediaType != "application/vnd.oci.empty.v1+json" || m.Config.Size != 2 || m.Config.Data != "e30=" ||
		m.Config.Digest != "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a" ||
		len(m.Layers) != 1 || m.Layers[0].Size != 17 || m.Layers[0].MediaType != "application/cwl+yaml" ||
		m.Layers[0].Digest != sha256Digest(a.Files[0].Data) || m.Layers[0].Annotations["org.opencontainers.image.title"] != "app.cwl" ||
		m.Annotations["org.opencontainers.image.version"] != "1.0" {
		t.Errorf("manifest:\n%s", manifest)
	}
	// The layer's blob is the file.
	layer, err := remote.Layer(ref.Context().Digest(m.Layers[0].Digest))
	if err != nil {
		t.Fatal(err)
	}
	rc, err := layer.Compressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if blob, err := io.ReadAll(rc); err != nil || string(blob) != "cwlVersion: v1.2\n" {
		t.Errorf("layer blob %q %v", blob, err)
	}
}

// TestRemoteErrors: a bad name and a missing tag are errors naming the
// image or repository.
func TestRemoteErrors(t *testing.T) {
	host := testenv.MemoryRegistry(t)
	ctx := context.Background()
	if _, err := Digest(ctx, host+"/eoap/app:missing", nil); err == nil || !strings.HasPrefix(err.Error(), host+"/eoap/app:missing: ") {
		t.Errorf("missing tag: %v", err)
	}
	if _, err := Digest(ctx, "Bad Name", nil); err == nil || !strings.HasPrefix(err.Error(), "Bad Name: ") {
		t.Errorf("bad name: %v", err)
	}
	if _, err := Push(ctx, "Bad Repo", []string{"1"}, &Artifact{}, nil); err == nil || !strings.HasPrefix(err.Error(), "Bad Repo: ") {
		t.Errorf("bad repository: %v", err)
	}
	// A registry that is gone: the first blob fails, and says where.
	srv := httptest.NewServer(nil)
	gone := strings.TrimPrefix(srv.URL, "http://")
	srv.Close()
	if _, err := Push(ctx, gone+"/eoap/app", []string{"1"}, &Artifact{}, nil); err == nil || !strings.HasPrefix(err.Error(), "pushing a blob to "+gone+"/eoap/app: ") {
		t.Errorf("registry gone: %v", err)
	}
}

// TestNameOptions: plain HTTP for loopback and listed registries only.
func TestNameOptions(t *testing.T) {
	for image, want := range map[string]int{"127.0.0.1:5000/a": 1, "localhost/a": 1, "ghcr.io/a": 0} {
		if got := len(nameOptions(image, nil)); got != want {
			t.Errorf("%s: %d options, want %d", image, got, want)
		}
	}
	if got := len(nameOptions("r.internal/a", []string{"r.internal"})); got != 1 {
		t.Errorf("a listed insecure registry: %d options", got)
	}
}

// TestSignaturesAttestationsReferrers: signatures and attestations append
// layers under cosign's tags (the same one twice is one layer), Layers
// reads them back verified against their digests, an SBOM referrer is
// found by HasReferrer for its artifact type only, and a digest with
// nothing attached has none.
func TestSignaturesAttestationsReferrers(t *testing.T) {
	ctx := context.Background()
	repo, digest := pushedArtifact(t)
	if l, err := Layers(ctx, repo, SignatureTag(digest), nil); err != nil || len(l) != 0 {
		t.Fatalf("no signature yet: %v %v", l, err)
	}
	for _, sig := range []string{"c2ln", "c2ln", "b3RoZXI="} {
		if err := AttachSignature(ctx, repo, digest, []byte(`{"p":1}`), sig, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := AttachAttestation(ctx, repo, digest, []byte(`{"payloadType":"x"}`), "https://slsa.dev/provenance/v1", nil, nil); err != nil {
		t.Fatal(err)
	}
	sigs, err := Layers(ctx, repo, SignatureTag(digest), nil)
	if err != nil || len(sigs) != 2 || sigs[0].Annotations[SignatureAnnotation] != "c2ln" || sigs[1].Annotations[SignatureAnnotation] != "b3RoZXI=" || string(sigs[0].Data) != `{"p":1}` || sigs[0].MediaType != SimpleSigningMediaType {
		t.Errorf("signature layers %+v %v, want two", sigs, err)
	}
	atts, err := Layers(ctx, repo, AttestationTag(digest), nil)
	if err != nil || len(atts) != 1 || atts[0].Annotations["predicateType"] != "https://slsa.dev/provenance/v1" || atts[0].MediaType != DSSEMediaType {
		t.Errorf("attestation layers %+v %v", atts, err)
	}
	if found, err := HasReferrer(ctx, repo, digest, []string{"application/spdx+json"}, nil); err != nil || found {
		t.Errorf("a referrer before any: %v %v", found, err)
	}
	if _, err := AttachReferrer(ctx, repo, digest, "application/spdx+json", []byte(`{"spdxVersion":"SPDX-2.3"}`), nil); err != nil {
		t.Fatal(err)
	}
	for typ, want := range map[string]bool{"application/spdx+json": true, "application/vnd.cyclonedx+json": false} {
		if found, err := HasReferrer(ctx, repo, digest, []string{typ}, nil); err != nil || found != want {
			t.Errorf("HasReferrer(%s) = %v %v, want %v", typ, found, err, want)
		}
	}
}

// TestBuiltOn: an image built on a base (the base's layers, then its own) is
// found to be built on it, by the multi-platform index its tag names too;
// once the tag has moved to another image, or for an image of other
// layers, it is not, and the digest the tag now names is still returned.
func TestBuiltOn(t *testing.T) {
	host := testenv.MemoryRegistry(t)
	ctx := context.Background()
	layer := func(s string) v1.Layer { return static.NewLayer([]byte(s), types.OCIUncompressedLayer) }
	write := func(ref string, img v1.Image) string {
		t.Helper()
		r, _ := name.ParseReference(ref, name.Insecure)
		if err := remote.Write(r, img); err != nil {
			t.Fatal(err)
		}
		d, _ := img.Digest()
		return d.String()
	}
	platformed := func(img v1.Image, arch string) v1.Image {
		cf, _ := img.ConfigFile()
		cf = cf.DeepCopy()
		cf.OS, cf.Architecture = "linux", arch
		img, err := mutate.ConfigFile(img, cf)
		if err != nil {
			t.Fatal(err)
		}
		return img
	}
	base, _ := mutate.AppendLayers(empty.Image, layer("base one"), layer("base two"))
	base = platformed(base, "amd64")
	other, _ := mutate.AppendLayers(empty.Image, layer("another base"))
	other = platformed(other, "amd64")
	armBase := platformed(mustAppend(t, empty.Image, layer("arm base")), "arm64")
	built := mustAppend(t, base, layer("the tool"))
	baseDigest := write(host+"/library/busybox:1.36", base)
	builtDigest := write(host+"/p/tool:1.0", built)
	idx := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: armBase, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}},
		mutate.IndexAddendum{Add: base, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}})
	r, _ := name.ParseReference(host+"/library/multi:1", name.Insecure)
	if err := remote.WriteIndex(r, idx); err != nil {
		t.Fatal(err)
	}
	idxDigest, _ := idx.Digest()
	b, err := ReadBuilt(ctx, host+"/p/tool", builtDigest, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		base, digest string
		ok           bool
	}{
		{host + "/library/busybox:1.36", baseDigest, true},
		{host + "/library/multi:1", idxDigest.String(), true},
		{host + "/library/busybox@" + baseDigest, baseDigest, true},
	} {
		d, ok, err := b.BuiltOn(tc.base)
		if err != nil || !ok || d != tc.digest {
			t.Errorf("BuiltOn(%s) = %s %v %v, want %s true", tc.base, d, ok, err, tc.digest)
		}
	}
	moved := write(host+"/library/busybox:1.36", other)
	if d, ok, err := b.BuiltOn(host + "/library/busybox:1.36"); err != nil || ok || d != moved {
		t.Errorf("BuiltOn, the tag moved to another image: %s %v %v, want %s false", d, ok, err, moved)
	}
	// An image is not its own base.
	write(host+"/library/busybox:1.36", built)
	if _, ok, err := b.BuiltOn(host + "/library/busybox:1.36"); err != nil || ok {
		t.Errorf("BuiltOn, the tag moved onto the built image: %v %v, want false", ok, err)
	}
	if _, _, err := b.BuiltOn(host + "/library/nothing:1"); err == nil {
		t.Error("BuiltOn a base the registry does not have: no error")
	}
}

func mustAppend(t *testing.T, img v1.Image, layers ...v1.Layer) v1.Image {
	t.Helper()
	out, err := mutate.AppendLayers(img, layers...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestStuckRegistry: a registry that accepts the connection and never
// answers fails a call within the response timeout, naming it; nothing
// hangs.
func TestStuckRegistry(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // held open, never answered
		}
	}()
	oldResponse, oldTLS := ResponseTimeout, TLSTimeout
	ResponseTimeout, TLSTimeout = 500*time.Millisecond, 500*time.Millisecond
	bounded = newBounded()
	defer func() { ResponseTimeout, TLSTimeout = oldResponse, oldTLS; bounded = newBounded() }()
	done := make(chan error, 1)
	go func() {
		_, err := Digest(context.Background(), ln.Addr().String()+"/eoap/a:1", nil)
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), ln.Addr().String()) {
			t.Errorf("a stuck registry: %v, want an error naming it", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("a call to a stuck registry still hangs after 30 s")
	}
}

// TestConcurrentSigners: signers of one digest at once each find their
// signature there afterwards (a registry has no compare-and-swap on a
// tag: without the read-back the last push drops the others' layers); a
// signature the same callback recognizes is not added again.
func TestConcurrentSigners(t *testing.T) {
	ctx := context.Background()
	repo, digest := pushedArtifact(t)
	const signers = 8
	var wg sync.WaitGroup
	errs := make(chan error, signers)
	for i := 0; i < signers; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			errs <- AttachSignature(ctx, repo, digest, []byte(fmt.Sprintf(`{"key":%d}`, i)), fmt.Sprintf("sig%d", i), nil, nil)
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	sigs, err := Layers(ctx, repo, SignatureTag(digest), nil)
	if err != nil || len(sigs) != signers {
		t.Fatalf("%d signatures after %d concurrent signers (%v)", len(sigs), signers, err)
	}
	// The same payload by the same signer again (a new, randomized
	// signature): recognized, nothing added.
	same := func(l Layer) bool { return string(l.Data) == `{"key":3}` }
	if err := AttachSignature(ctx, repo, digest, []byte(`{"key":3}`), "another-sig3", nil, same); err != nil {
		t.Fatal(err)
	}
	if sigs, _ := Layers(ctx, repo, SignatureTag(digest), nil); len(sigs) != signers {
		t.Errorf("%d signatures after signing one payload again, want %d", len(sigs), signers)
	}
}

// pushedArtifact is a workflow artifact pushed to an in-memory registry:
// its repository and digest.
func pushedArtifact(t *testing.T) (repo, digest string) {
	t.Helper()
	repo = testenv.MemoryRegistry(t) + "/eoap/app"
	digest, err := Push(context.Background(), repo, []string{"1.0"}, &Artifact{ArtifactType: "application/cwl", Files: []File{{Data: []byte("x"), MediaType: "application/cwl+yaml"}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return repo, digest
}

// TestBundleReferrers: Sigstore bundles attached at once by several
// signers are all listed afterwards, on a registry with the Referrers API
// and on one where only the fallback tag lists them (which has no
// compare-and-swap: without the read-back the last writer drops the
// others); a bundle the same callback recognizes is not added again; a
// referrer of the bundle type that is not one file is not a bundle.
func TestBundleReferrers(t *testing.T) {
	const mediaType = "application/vnd.dev.sigstore.bundle.v0.3+json"
	for name, host := range map[string]func(testing.TB) string{"fallback tag": testenv.MemoryRegistry, "Referrers API": testenv.ReferrersRegistry} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			repo := host(t) + "/eoap/app"
			digest, err := Push(ctx, repo, []string{"1.0"}, &Artifact{ArtifactType: "application/cwl", Files: []File{{Data: []byte("x"), MediaType: "application/cwl+yaml"}}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			const signers = 6
			var wg sync.WaitGroup
			errs := make(chan error, signers)
			for i := 0; i < signers; i++ {
				wg.Add(1)
				go func(i int) {
					defer wg.Done()
					_, err := AttachBundle(ctx, repo, digest, mediaType, []byte(fmt.Sprintf(`{"signer":%d}`, i)), "https://sigstore.dev/cosign/sign/v1", nil, nil)
					errs <- err
				}(i)
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			bundles, err := Bundles(ctx, repo, digest, mediaType, nil)
			if err != nil || len(bundles) != signers {
				t.Fatalf("%d bundles after %d concurrent signers (%v)", len(bundles), signers, err)
			}
			same := func(data []byte) bool { return string(data) == `{"signer":2}` }
			d, err := AttachBundle(ctx, repo, digest, mediaType, []byte(`{"signer":2,"again":true}`), "https://sigstore.dev/cosign/sign/v1", nil, same)
			if err != nil {
				t.Fatal(err)
			}
			if bundles, _ := Bundles(ctx, repo, digest, mediaType, nil); len(bundles) != signers {
				t.Errorf("%d bundles after attaching one again, want %d", len(bundles), signers)
			}
			found := false
			for _, b := range bundles {
				found = found || (b.Digest == d && string(b.Data) == `{"signer":2}`)
			}
			if !found {
				t.Errorf("AttachBundle of a bundle there already returned %s, not that bundle's referrer", d)
			}
			// A referrer of the bundle type with two files: listed, but not
			// read as a bundle, and no error.
			a := &Artifact{ArtifactType: mediaType, Files: []File{{Data: []byte("1"), MediaType: mediaType}, {Data: []byte("2"), MediaType: mediaType}}}
			if _, err := pushWithSubject(ctx, repo, digest, a); err != nil {
				t.Fatal(err)
			}
			if refs, _ := Referrers(ctx, repo, digest, []string{mediaType}, nil); len(refs) != signers+1 {
				t.Fatalf("%d referrers listed, want %d", len(refs), signers+1)
			}
			if bundles, err := Bundles(ctx, repo, digest, mediaType, nil); err != nil || len(bundles) != signers {
				t.Errorf("with a two-file referrer: %d bundles (%v), want %d", len(bundles), err, signers)
			}
		})
	}
}

// pushWithSubject pushes a as a referrer of repo@digest.
func pushWithSubject(ctx context.Context, repo, digest string, a *Artifact) (string, error) {
	if err := PushBlobs(ctx, repo, a, nil); err != nil {
		return "", err
	}
	m, err := a.Manifest()
	if err != nil {
		return "", err
	}
	r, opts, err := repository(ctx, repo, nil)
	if err != nil {
		return "", err
	}
	subject, err := remote.Head(r.Digest(digest), opts...)
	if err != nil {
		return "", err
	}
	var doc map[string]any
	json.Unmarshal(m, &doc)
	doc["subject"] = map[string]any{"mediaType": subject.MediaType, "digest": subject.Digest.String(), "size": subject.Size}
	m, _ = json.Marshal(doc)
	d := sha256Digest(m)
	return d, remote.Put(r.Digest(d), rawManifest{m}, opts...)
}
