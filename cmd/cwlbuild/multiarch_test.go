package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	name2 "github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/eoap/cwlbuild/internal/imageref"
	"github.com/eoap/cwlbuild/internal/testenv"
	"github.com/eoap/cwlbuild/skaffold/buildjson"
)

// TestPluginMultiPlatform: [build] platforms = linux/amd64 and linux/arm64
// through the plugin's buildah, podman and buildkit backends, on a base
// that is itself an index: the pushed tag is an image index holding one
// image per platform, each of its own architecture, the digest file names
// the index, and the arm64 image runs (emulated) giving the tool's output,
// its RUN step's file included. A base that is one amd64 image is refused
// by `cwlbuild check` and by the plugin, before any build, at its FROM
// line: its binaries would be built into the arm64 image.
func TestPluginMultiPlatform(t *testing.T) {
	testenv.RequireEmulation(t)
	reg := testenv.StartRegistry(t)
	reg.PushBaseIndex(t)
	amd64Only := reg.Host + "/library/busybox:amd64-only"
	reg.PushLocal(t, testenv.BaseImage, "library/busybox:amd64-only")
	for _, backend := range []string{"buildah", "podman", "buildkit"} {
		t.Run(backend, func(t *testing.T) {
			var flags []string
			if backend == "buildkit" {
				flags = []string{"--buildkit-addr", testenv.StartBuildKitd(t).Addr}
			} else {
				testenv.LookPath(t, backend)
			}
			dir := writeEnginePackage(t, reg.Host, backend)
			toml := filepath.Join(dir, "project.toml")
			data, _ := os.ReadFile(toml)
			data = []byte(strings.Replace(string(data), "engine = \"local\"\n", "engine = \"local\"\nplatforms = [\"linux/amd64\", \"linux/arm64\"]\n", 1))
			data = []byte(strings.Replace(string(data), "[build.cluster]\n", "[build.cluster]\nbuilder = \"buildkit\"\n", 1))
			os.WriteFile(toml, data, 0o644)
			if backend == "buildah" {
				df := filepath.Join(dir, "tools", "shout", "Dockerfile")
				dfData, _ := os.ReadFile(df)
				os.WriteFile(df, []byte(strings.Replace(string(dfData), "FROM docker.io/library/busybox:1.36", "FROM "+amd64Only, 1)), 0o644)
				want := "tools/shout/Dockerfile:1: base image " + amd64Only + " has no linux/arm64 image (it has linux/amd64), and tool shout is built for linux/arm64"
				out, stderr, code := run(t, "check", "-f", toml)
				if code != 1 || !strings.Contains(out+stderr, want) {
					t.Errorf("check of a one-platform base: exit %d, want 1 and %q:\n%s%s", code, want, out, stderr)
				}
				out, stderr, code = run(t, "plugin", "--backend", backend, "-f", toml, "--tool", "shout", "--image", reg.Host+"/pkg/shout:refused", "--context", filepath.Join(dir, "tools", "shout"))
				if code != 1 || !strings.Contains(stderr, want) || strings.Contains(out, "STEP") {
					t.Errorf("plugin on a one-platform base: exit %d, want 1, %q and no build:\n%s%s", code, want, out, stderr)
				}
				os.WriteFile(df, dfData, 0o644)
			}
			// The base as registries hold it: an index (local storage
			// holds one platform's image under its name).
			df := filepath.Join(dir, "tools", "shout", "Dockerfile")
			dfData, _ := os.ReadFile(df)
			os.WriteFile(df, []byte(strings.Replace(string(dfData), "FROM docker.io/library/busybox:1.36", "FROM "+reg.Host+"/library/busybox:1.36", 1)), 0o644)
			image := reg.Host + "/pkg/shout:multi-" + backend
			digestFile := filepath.Join(t.TempDir(), "digest")
			out, stderr, code := run(t, append([]string{"plugin", "--backend", backend, "-f", toml, "--tool", "shout",
				"--image", image, "--context", filepath.Join(dir, "tools", "shout"), "--digest-file", digestFile}, flags...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s%s", code, out, stderr)
			}
			got, _ := os.ReadFile(digestFile)
			if want := reg.Digest(t, image); strings.TrimSpace(string(got)) != want {
				t.Errorf("digest file %q, registry serves %s", got, want)
			}
			raw, err := exec.Command("skopeo", "inspect", "--raw", "--tls-verify=false", "docker://"+image).Output()
			if err != nil {
				t.Fatalf("skopeo inspect --raw: %v", err)
			}
			var index struct {
				MediaType string `json:"mediaType"`
				Manifests []struct {
					Digest   string `json:"digest"`
					Platform struct {
						OS           string `json:"os"`
						Architecture string `json:"architecture"`
					} `json:"platform"`
				} `json:"manifests"`
			}
			json.Unmarshal(raw, &index)
			var plats []string
			for _, m := range index.Manifests {
				plats = append(plats, m.Platform.OS+"/"+m.Platform.Architecture)
			}
			slices.Sort(plats)
			if !slices.Equal(plats, []string{"linux/amd64", "linux/arm64"}) {
				t.Fatalf("the tag is not an index of linux/amd64 and linux/arm64: %s", raw)
			}
			for _, arch := range []string{"amd64", "arm64"} {
				cfg, err := exec.Command("skopeo", "inspect", "--config", "--tls-verify=false", "--override-arch", arch, "docker://"+image).Output()
				var c struct {
					Architecture string `json:"architecture"`
				}
				if err != nil || json.Unmarshal(cfg, &c) != nil || c.Architecture != arch {
					t.Errorf("the index's %s image: config architecture %q (%v)", arch, c.Architecture, err)
				}
			}
			// The arm64 image, run: its programs are arm64 ones, and its
			// RUN step ran (under emulation).
			outArm, err := exec.Command("podman", "run", "--rm", "--quiet", "--tls-verify=false", "--platform", "linux/arm64", image,
				"sh", "-c", "uname -m; cat /built; shout hello").Output()
			if err != nil || string(outArm) != "aarch64\nbuilt\nshout hello\n" {
				t.Errorf("the arm64 image run: %v\n%s", err, outArm)
			}
			if backend == "buildkit" {
				skaffoldIndexes(t, reg, dir, flags[1])
			}
		})
	}
}

// skaffoldIndexes builds dir's tools through the pinned Skaffold with the
// buildkitd at addr and pins them with cwlpatch: build.json holds each
// tool's index digest, the registry serves it, and the CWL pins it.
func skaffoldIndexes(t *testing.T, reg *testenv.Registry, dir, addr string) {
	t.Helper()
	t.Setenv("BUILDKIT_HOST", addr)
	sk := testenv.Skaffold(t)
	project := filepath.Join(dir, "project.toml")
	if _, stderr, code := run(t, "generate", "-f", project, "--plugin-command", testenv.BuildBinary(t, "./cmd/cwlbuild")); code != 0 {
		t.Fatalf("generate: %s", stderr)
	}
	out, log := skaffoldBuildLog(t, sk, dir, t.TempDir())
	if len(out.Builds) != 2 {
		t.Fatalf("builds %+v\n%s", out.Builds, log)
	}
	cmd := exec.Command(testenv.BuildBinary(t, "./cmd/cwlpatch"), "-f", project, filepath.Join(dir, "build.json"))
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("cwlpatch: %v\n%s", err, msg)
	}
	cwl, _ := os.ReadFile(filepath.Join(dir, "app.cwl"))
	for name, digest := range servedDigests(t, out, "") {
		raw, err := exec.Command("skopeo", "inspect", "--raw", "--tls-verify=false", "docker://"+name+"@"+digest).Output()
		if err != nil || !strings.Contains(string(raw), `"manifests"`) {
			t.Errorf("%s@%s is not an index: %v %s", name, digest, err, raw)
		}
		if !strings.Contains(string(cwl), "@"+digest) {
			t.Errorf("the CWL does not pin %s's index %s:\n%s", name, digest, cwl)
		}
	}
}

// TestReleaseIndex: a workflow pinned to an image index (linux/amd64 and
// linux/arm64): sign, attest and sbom cover the index and each platform
// image; verify checks every one of them (an SBOM missing on the arm64
// image is named), and cosign v2 and v3 verify the signatures of the index
// and of the arm64 image with the key.
func TestReleaseIndex(t *testing.T) {
	reg := testenv.StartRegistry(t)
	r := newReleaseOn(t, reg)
	index := reg.PushBaseIndex(t) // the tag r pins now names an index
	r.digest = index[strings.LastIndex(index, "@")+1:]
	pin := r.image + ":1.36@" + r.digest
	r.cwl = strings.Replace(r.cwl, r.pin, pin, 1)
	r.pin = pin
	os.WriteFile(filepath.Join(r.pkg, "app.cwl"), []byte(r.cwl), 0o644)
	artifact := strings.Fields(r.must(t, "publish"))[0]
	tag := artifact[:strings.Index(artifact, "@")]
	out := r.must(t, "sign", "--key", r.key)
	r.must(t, "sign", "--key", r.key, artifact)
	r.must(t, "attest", "--key", r.key)
	r.must(t, "attest", "--key", r.key, "--workflow", artifact)
	raw, err := exec.Command("skopeo", "inspect", "--raw", "--tls-verify=false", "docker://"+r.image+"@"+r.digest).Output()
	if err != nil {
		t.Fatal(err)
	}
	var idx struct {
		Manifests []struct {
			Digest   string `json:"digest"`
			Platform struct {
				Architecture string `json:"architecture"`
			} `json:"platform"`
		} `json:"manifests"`
	}
	json.Unmarshal(raw, &idx)
	arm64 := ""
	for _, m := range idx.Manifests {
		if !strings.Contains(out, "signed "+r.image+"@"+m.Digest) {
			t.Errorf("sign did not sign the %s image %s:\n%s", m.Platform.Architecture, m.Digest, out)
		}
		if m.Platform.Architecture == "arm64" {
			arm64 = r.image + "@" + m.Digest
		}
	}
	if len(idx.Manifests) != 2 || arm64 == "" {
		t.Fatalf("the pinned index: %s", raw)
	}
	for _, v := range cosigns(t) {
		for _, ref := range []string{r.pin, arm64} {
			if o, err := v.verify(t, "verify", r.pub, ref); err != nil {
				t.Errorf("%s verify %s: %v\n%s", v.name, ref, err, o)
			}
		}
	}
	verify := func(args ...string) (string, int) {
		return r.run(append([]string{"verify", "--key", r.pub}, append(args, tag)...)...)
	}
	if o, code := verify("--sbom=false"); code != 0 || !strings.Contains(o, "1 images, 0 failed") {
		t.Errorf("verify without SBOMs: exit %d\n%s", code, o)
	}
	if o, code := verify(); code != 1 || !strings.Contains(o, "its linux/arm64 image "+arm64[strings.Index(arm64, "@")+1:]+": no SBOM is attached to it") {
		t.Errorf("verify before the SBOMs: exit %d, want 1 naming the arm64 image's SBOM\n%s", code, o)
	}
	r.must(t, "sbom")
	r.must(t, "attest", "--key", r.key)
	if o, code := verify(); code != 0 || !strings.Contains(o, "1 images, 0 failed; the workflow verified") {
		t.Errorf("verify with every SBOM: exit %d\n%s", code, o)
	}
	// The arm64 image gone from the registry, the index left: publish
	// refuses the pin, verify fails naming the image.
	armRef, _ := name2.ParseReference(arm64, name2.Insecure)
	if err := remote.Delete(armRef); err != nil {
		t.Fatal(err)
	}
	want := "pins the index " + r.pin + ", whose linux/arm64 image " + armRef.Identifier() + " the registry does not serve"
	if o, code := r.run("publish"); code == 0 || !strings.Contains(o, want) {
		t.Errorf("publish of an index missing its arm64 image: exit %d, want a failure saying %q\n%s", code, want, o)
	}
	if o, code := verify(); code != 1 || !strings.Contains(o, "its linux/arm64 image "+armRef.Identifier()+": the registry does not serve it") {
		t.Errorf("verify of an index missing its arm64 image: exit %d\n%s", code, o)
	}
}

// TestTarPlatforms: `cwlbuild tar` inside the Kaniko image, for a tool of
// linux/amd64 and linux/arm64: one docker-archive per platform (the arm64
// one's RUN step under QEMU), an SBOM beside each, and an OCI layout of
// their index whose digest the record names; `skopeo copy --all
// --preserve-digests` of the layout makes the registry serve exactly that
// digest, an index of both platforms whose arm64 image runs, emulated.
func TestTarPlatforms(t *testing.T) {
	testenv.RequireEmulation(t)
	reg := testenv.StartRegistry(t)
	reg.PushBaseIndex(t)
	dir := writeEnginePackage(t, reg.Host, "buildah")
	toml := filepath.Join(dir, "project.toml")
	data, _ := os.ReadFile(toml)
	os.WriteFile(toml, []byte(strings.Replace(string(data), "engine = \"local\"\n", "engine = \"local\"\nplatforms = [\"linux/amd64\", \"linux/arm64\"]\n", 1)), 0o644)
	bin := testenv.BuildBinary(t, "./cmd/cwlbuild")
	agent := testenv.BuildBinary(t, "./cmd/cwlbuild-sbom")
	kanikoRun(t, "-v", dir+":/workspace", "-v", bin+":/usr/local/bin/cwlbuild:ro", "-v", agent+":/usr/local/bin/cwlbuild-sbom:ro",
		"--entrypoint", "/usr/local/bin/cwlbuild", testenv.KanikoImage,
		"tar", "-f", "/workspace/project.toml", "--tool", "shout", "-o", "/workspace/out", "--tag", "1.0")
	out := filepath.Join(dir, "out")
	var rec buildjson.Output
	data, err := os.ReadFile(filepath.Join(out, "build.json"))
	if err != nil || json.Unmarshal(data, &rec) != nil || len(rec.Builds) != 1 {
		t.Fatalf("build.json: %v %s", err, data)
	}
	ref, _ := imageref.Split(rec.Builds[0].Tag)
	if d, _ := os.ReadFile(filepath.Join(out, "shout.digest")); strings.TrimSpace(string(d)) != ref.Digest {
		t.Errorf("shout.digest %q, the record says %s", d, ref.Digest)
	}
	for _, f := range []string{"shout-linux-amd64.tar", "shout-linux-arm64.tar", "shout-linux-amd64.spdx.json", "shout-linux-arm64.spdx.json", "shout/index.json"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("out/%s: %v", f, err)
		}
	}
	dst := reg.Host + "/pkg/shout:1.0"
	if o, err := exec.Command("skopeo", "copy", "--quiet", "--all", "--preserve-digests", "--dest-tls-verify=false", "oci:"+filepath.Join(out, "shout")+":1.0", "docker://"+dst).CombinedOutput(); err != nil {
		t.Fatalf("skopeo copy --all: %v\n%s", err, o)
	}
	if got := reg.Digest(t, dst); got != ref.Digest {
		t.Errorf("pushed digest %s, the record says %s", got, ref.Digest)
	}
	raw, err := exec.Command("skopeo", "inspect", "--raw", "--tls-verify=false", "docker://"+dst).Output()
	var index struct {
		Manifests []struct {
			Platform struct{ OS, Architecture string } `json:"platform"`
		} `json:"manifests"`
	}
	json.Unmarshal(raw, &index)
	var plats []string
	for _, m := range index.Manifests {
		plats = append(plats, strings.ToLower(m.Platform.OS+"/"+m.Platform.Architecture))
	}
	slices.Sort(plats)
	if err != nil || !slices.Equal(plats, []string{"linux/amd64", "linux/arm64"}) {
		t.Fatalf("the pushed layout is not an index of both platforms: %v %s", err, raw)
	}
	got, err := exec.Command("podman", "run", "--rm", "--quiet", "--tls-verify=false", "--platform", "linux/arm64", dst+"@"+ref.Digest,
		"sh", "-c", "uname -m; cat /built; shout hello").CombinedOutput()
	if err != nil || string(got) != "aarch64\nbuilt\nshout hello\n" {
		t.Errorf("the arm64 image run: %v\n%s", err, got)
	}
}
