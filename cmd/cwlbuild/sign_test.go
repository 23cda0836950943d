package main

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

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
	verify := func(keyDir, ref string) (string, error) {
		c := exec.Command(cosign, "verify", "--key", filepath.Join(keyDir, "cosign.pub"), "--insecure-ignore-tlog=true",
			"--allow-http-registry", "--allow-insecure-registry", ref)
		c.Env = append(os.Environ(), "DOCKER_CONFIG="+t.TempDir())
		out, err := c.CombinedOutput()
		return string(out), err
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

// TestAttestVerifiedByCosign: the provenance `cwlbuild attest` attaches to
// a pinned image and to the published workflow, the real cosign CLI
// verifies (`verify-attestation --type slsaprovenance1`) with the signing
// pair's key, and refuses with another's; the statements name the digest,
// the package's revision and, for the workflow, the file and every pin.
func TestAttestVerifiedByCosign(t *testing.T) {
	cosign := testenv.Cosign(t)
	reg := testenv.StartRegistry(t)
	reg.PushBase(t)
	image := reg.Host + "/library/busybox"
	digest := reg.Digest(t, image+":1.36")
	pkg := t.TempDir()
	testenv.FakeWorkTree(t, pkg)
	os.WriteFile(filepath.Join(pkg, "app.cwl"), []byte(`cwlVersion: v1.2
$graph:
- class: Workflow
  id: main
  inputs: []
  outputs: []
  steps: {hello: {run: "#hello", in: [], out: []}}
- class: CommandLineTool
  id: hello
  requirements: {DockerRequirement: {dockerPull: "`+image+`:1.36@`+digest+`"}}
  baseCommand: [echo, hello]
  inputs: []
  outputs: []
`), 0o644)
	os.WriteFile(filepath.Join(pkg, "project.toml"), []byte("[project]\nname = \"hello\"\nversion = \"1.0.0\"\nrepository = \"https://example.org/hello.git\"\n[build]\nengine = \"local\"\n[build.local]\nregistry = \""+reg.Host+"/hello\"\n[[workflows]]\npath = \"app.cwl#main\"\n"), 0o644)
	keys := t.TempDir()
	env := append(os.Environ(), "COSIGN_PASSWORD=pw", "DOCKER_CONFIG="+t.TempDir())
	for _, d := range []string{"mine", "other"} {
		os.MkdirAll(filepath.Join(keys, d), 0o755)
		gen := exec.Command(cosign, "generate-key-pair")
		gen.Dir, gen.Env = filepath.Join(keys, d), env
		if out, err := gen.CombinedOutput(); err != nil {
			t.Fatalf("cosign generate-key-pair: %v\n%s", err, out)
		}
	}
	cwlbuild := testenv.BuildBinary(t, "github.com/eoap/cwlbuild/cmd/cwlbuild")
	run := func(args ...string) string {
		t.Helper()
		c := exec.Command(cwlbuild, args...)
		c.Dir, c.Env = pkg, env
		out, err := c.CombinedOutput()
		if err != nil {
			t.Fatalf("cwlbuild %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	published := run("publish")
	artifact := strings.Fields(published)[0]
	if !strings.Contains(artifact, "@sha256:") {
		t.Fatalf("publish printed %q", published)
	}
	run("attest", "--key", filepath.Join(keys, "mine", "cosign.key"))
	run("attest", "--key", filepath.Join(keys, "mine", "cosign.key"), "--workflow", artifact)
	verify := func(keyDir, ref string) (string, error) {
		c := exec.Command(cosign, "verify-attestation", "--key", filepath.Join(keys, keyDir, "cosign.pub"), "--type", "slsaprovenance1",
			"--insecure-ignore-tlog=true", "--allow-http-registry", "--allow-insecure-registry", ref)
		c.Env = env
		out, err := c.Output()
		return string(out), err
	}
	byDigest := image + "@" + digest
	artifactByDigest := artifact[:strings.Index(artifact, ":1.0.0")] + artifact[strings.Index(artifact, "@"):]
	for _, tc := range []struct{ ref, want string }{
		{byDigest, `"buildType":"https://github.com/eoap/cwlbuild/image/v1"`},
		{artifactByDigest, `"images":["` + image + `:1.36@` + digest + `"]`},
	} {
		out, err := verify("mine", tc.ref)
		if err != nil {
			t.Errorf("cosign verify-attestation %s: %v\n%s", tc.ref, err, out)
			continue
		}
		var env struct{ Payload string }
		json.Unmarshal([]byte(strings.SplitN(strings.TrimSpace(out), "\n", 2)[0]), &env)
		statement, _ := base64.StdEncoding.DecodeString(env.Payload)
		for _, want := range []string{tc.want, `"revision":"` + strings.Repeat("c0ffee", 6) + `c0ff"`, `"sha256":"` + strings.TrimPrefix(digest, "sha256:") + `"`} {
			if tc.ref == artifactByDigest && strings.Contains(want, strings.TrimPrefix(digest, "sha256:")) {
				want = `"name":"app.cwl"`
			}
			if !strings.Contains(string(statement), want) {
				t.Errorf("%s: the statement does not say %s:\n%s", tc.ref, want, statement)
			}
		}
		if out, err := verify("other", tc.ref); err == nil {
			t.Errorf("cosign verified %s's attestation with another pair's key:\n%s", tc.ref, out)
		}
	}
}

// TestVerifyRelease: `cwlbuild verify` accepts a release that was
// published, signed and attested, and names what failed after each
// tampering: another key, a pin to a digest the registry does not serve,
// no SBOM, one byte of the published workflow changed, provenance from
// another revision, the pinned tag moved to another digest.
func TestVerifyRelease(t *testing.T) {
	cosign := testenv.Cosign(t)
	reg := testenv.StartRegistry(t)
	reg.PushBase(t)
	image := reg.Host + "/library/busybox"
	digest := reg.Digest(t, image+":1.36")
	pin := image + ":1.36@" + digest
	pkg := t.TempDir()
	testenv.FakeWorkTree(t, pkg)
	cwl := `cwlVersion: v1.2
$graph:
- class: Workflow
  id: main
  inputs: []
  outputs: []
  steps: {hello: {run: "#hello", in: [], out: []}}
- class: CommandLineTool
  id: hello
  requirements: {DockerRequirement: {dockerPull: "` + pin + `"}}
  baseCommand: [echo, hello]
  inputs: []
  outputs: []
`
	os.WriteFile(filepath.Join(pkg, "app.cwl"), []byte(cwl), 0o644)
	os.WriteFile(filepath.Join(pkg, "project.toml"), []byte("[project]\nname = \"hello\"\nversion = \"1.0.0\"\n[build]\nengine = \"local\"\n[build.local]\nregistry = \""+reg.Host+"/hello\"\n[[workflows]]\npath = \"app.cwl#main\"\n"), 0o644)
	keys := t.TempDir()
	env := append(os.Environ(), "COSIGN_PASSWORD=pw", "DOCKER_CONFIG="+t.TempDir())
	for _, d := range []string{"mine", "other"} {
		os.MkdirAll(filepath.Join(keys, d), 0o755)
		gen := exec.Command(cosign, "generate-key-pair")
		gen.Dir, gen.Env = filepath.Join(keys, d), env
		if out, err := gen.CombinedOutput(); err != nil {
			t.Fatalf("cosign generate-key-pair: %v\n%s", err, out)
		}
	}
	cwlbuild := testenv.BuildBinary(t, "github.com/eoap/cwlbuild/cmd/cwlbuild")
	run := func(args ...string) (string, int) {
		t.Helper()
		c := exec.Command(cwlbuild, args...)
		c.Dir, c.Env = pkg, env
		out, err := c.CombinedOutput()
		return string(out), exitCode(err)
	}
	must := func(args ...string) string {
		t.Helper()
		out, code := run(args...)
		if code != 0 {
			t.Fatalf("cwlbuild %s: exit %d\n%s", strings.Join(args, " "), code, out)
		}
		return out
	}
	key, pub, otherPub := filepath.Join(keys, "mine", "cosign.key"), filepath.Join(keys, "mine", "cosign.pub"), filepath.Join(keys, "other", "cosign.pub")
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
	must("sign", "--key", key, changed)
	must("attest", "--key", key, "--workflow", changed)
	expect("another revision", 1, []string{"ok   workflow", "(revision " + strings.Repeat("beef", 10) + ")", "its provenance names revision \"c0ffee"}, "--key", pub, "--sbom=false", tag)

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
