package main

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	name2 "github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/GoogleContainerTools/skaffold/v2/pkg/skaffold/schema/latest"
	"gopkg.in/yaml.v3"

	"github.com/eoap/cwlbuild/builder"
	"github.com/eoap/cwlbuild/internal/dockerconfig"
	"github.com/eoap/cwlbuild/internal/imageref"
	"github.com/eoap/cwlbuild/internal/testenv"
	"github.com/eoap/cwlbuild/skaffold"
	"github.com/eoap/cwlbuild/skaffold/buildjson"
)

// writeEnginePackage writes a two-tool package whose images build FROM the
// busybox base with a RUN and a COPY step, pushing to registry host.
func writeEnginePackage(t *testing.T, host, runtime string) string {
	t.Helper()
	dir := t.TempDir()
	toml := fmt.Sprintf(`[project]
name = "engines"
version = "0.1.0"

[build]
engine = "local"

[build.local]
runtime = %q
registry = "%s/pkg"

[build.cluster]
namespace = "ns"
serviceAccount = "kaniko-sa"
registry = "%s/pkg"
secret = "push-secret"

[build.kaniko]
registryMap = { "index.docker.io" = %q }
insecureRegistries = [%q]
`, runtime, host, host, host, host)
	cwl := "cwlVersion: v1.2\n$graph:\n"
	for _, tool := range []string{"shout", "count"} {
		toml += fmt.Sprintf("\n[tools.%s]\ncontext = \"tools/%s\"\npath = \"app.cwl#%s\"\n", tool, tool, tool)
		ctx := filepath.Join(dir, "tools", tool)
		os.MkdirAll(ctx, 0o755)
		os.WriteFile(filepath.Join(ctx, "Dockerfile"), []byte("FROM docker.io/library/busybox:1.36\nCOPY run.sh /usr/local/bin/"+tool+"\nRUN chmod 755 /usr/local/bin/"+tool+" && echo built > /built\n"), 0o644)
		os.WriteFile(filepath.Join(ctx, "run.sh"), []byte("#!/bin/sh\necho "+tool+" \"$@\"\n"), 0o644)
		cwl += fmt.Sprintf("  - class: CommandLineTool\n    id: %s\n    hints:\n      DockerRequirement:\n        dockerPull: %s/pkg/%s:latest\n    baseCommand: [%s]\n    inputs: []\n    outputs: []\n", tool, host, tool, tool)
	}
	os.WriteFile(filepath.Join(dir, "project.toml"), []byte(toml), 0o644)
	os.WriteFile(filepath.Join(dir, "app.cwl"), []byte(cwl), 0o644)
	return dir
}

// TestPluginDaemonlessBackends: the plugin's buildah and podman backends
// build, push to a real registry on 127.0.0.1 (plain HTTP because it is
// loopback, on a port registries.conf does not list), and report the digest
// the registry serves.
func TestPluginDaemonlessBackends(t *testing.T) {
	testenv.RequireImage(t, testenv.BaseImage)
	reg := testenv.StartRegistry(t)
	for _, backend := range []string{"buildah", "podman"} {
		t.Run(backend, func(t *testing.T) {
			testenv.LookPath(t, backend)
			dir := writeEnginePackage(t, reg.Host, backend)
			image := reg.Host + "/pkg/shout:" + backend
			digestFile := filepath.Join(t.TempDir(), "digest")
			_, stderr, code := run(t, "plugin", "--backend", backend, "-f", filepath.Join(dir, "project.toml"), "--tool", "shout",
				"--image", image, "--context", filepath.Join(dir, "tools", "shout"), "--digest-file", digestFile)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			got, _ := os.ReadFile(digestFile)
			if want := reg.Digest(t, image); strings.TrimSpace(string(got)) != want {
				t.Errorf("digest file %q, registry serves %s", got, want)
			}
			checkLabels(t, reg.Labels(t, image), "shout", "0.1.0")
			// Reproducible with the layer cache empty or warm: in an empty
			// storage (holding only the base image) a first build, then
			// the same again, every step from the cache; in a second empty
			// storage, a third. One digest.
			build := func(tag string) (string, string) {
				t.Helper()
				ref := reg.Host + "/pkg/shout:" + backend + "-" + tag
				out, stderr, code := run(t, "plugin", "--backend", backend, "-f", filepath.Join(dir, "project.toml"), "--tool", "shout",
					"--image", ref, "--context", filepath.Join(dir, "tools", "shout"))
				if code != 0 {
					t.Fatalf("build %s: exit %d: %s", tag, code, stderr)
				}
				return reg.Digest(t, ref), out + stderr
			}
			freshStorage(t, backend)
			cold, _ := build("cold")
			warm, log := build("warm")
			if n := strings.Count(log, "Using cache"); n < 2 {
				t.Errorf("the second build took %d steps from the layer cache, want both:\n%s", n, log)
			}
			freshStorage(t, backend)
			again, _ := build("again")
			if cold != warm || cold != again {
				t.Errorf("builds of one context, the cache empty, warm, then empty again: %s, %s and %s", cold, warm, again)
			}
		})
	}
}

// freshStorage points buildah and podman at an empty storage of their own
// for the rest of the test, holding only the base image.
func freshStorage(t *testing.T, backend string) {
	t.Helper()
	dir := t.TempDir()
	// An oci: layout's path names the image pulled from it: lowercase.
	base, err := os.MkdirTemp("", "cwlbuild-base-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	if out, err := exec.Command(backend, "push", "-q", testenv.BaseImage, "oci:"+base).CombinedOutput(); err != nil {
		t.Fatalf("%s push %s: %v\n%s", backend, testenv.BaseImage, err, out)
	}
	conf := filepath.Join(dir, "storage.conf")
	os.WriteFile(conf, []byte(fmt.Sprintf("[storage]\ndriver = \"vfs\"\ngraphroot = %q\nrunroot = %q\n", filepath.Join(dir, "graph"), filepath.Join(dir, "run"))), 0o644)
	t.Setenv("CONTAINERS_STORAGE_CONF", conf)
	out, err := exec.Command(backend, "pull", "-q", "oci:"+base).Output()
	id := strings.TrimSpace(string(out))
	if err == nil {
		out, err = exec.Command(backend, "tag", id, testenv.BaseImage).CombinedOutput()
	}
	if err != nil {
		t.Fatalf("%s: the base image into a fresh storage: %v\n%s", backend, err, out)
	}
}

// checkLabels: the OCI labels every build sets, read back from the image.
func checkLabels(t *testing.T, got map[string]string, tool, version string) {
	t.Helper()
	if got["org.opencontainers.image.title"] != tool || got["org.opencontainers.image.version"] != version {
		t.Errorf("labels %v: want title %s and version %s", got, tool, version)
	}
	if _, ok := got["org.opencontainers.image.created"]; ok {
		t.Errorf("labels %v: a creation time makes builds unreproducible", got)
	}
}

// kanikoPod is what Skaffold's cluster builder gives a Kaniko container.
type kanikoPod struct {
	Args    []string          `json:"args"`
	Env     map[string]string `json:"env"`
	Context string            `json:"context"`
}

// kanikoPodArgs asks Skaffold's own code (scripts/skaffold/kaniko-args) for
// the executor arguments and env of the cluster profile's first artifact.
func kanikoPodArgs(t *testing.T, config []byte, image string) kanikoPod {
	t.Helper()
	cmd := exec.Command("go", "run", "./kaniko-args", "-profile", "cluster", "-artifact", "0", "-image", image)
	cmd.Dir = filepath.Join(testenv.ModuleRoot(), "scripts", "skaffold")
	cmd.Stdin = bytes.NewReader(config)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kaniko-args: %v", err)
	}
	var pod kanikoPod
	if err := json.Unmarshal(out, &pod); err != nil {
		t.Fatal(err)
	}
	return pod
}

func TestPluginRefusesNoPush(t *testing.T) {
	t.Setenv("IMAGE", "127.0.0.1:5000/x/y:1")
	t.Setenv("PUSH_IMAGE", "false")
	_, stderr, code := run(t, "plugin", "--backend", "buildah")
	if code == 0 || !strings.Contains(stderr, "--push") {
		t.Errorf("exit %d: %s", code, stderr)
	}
}

// TestSkaffoldCustomBuilder runs the pinned Skaffold on a generated config
// whose artifacts use `cwlbuild plugin` as custom builder: Skaffold records
// the digests in build.json, and they are the registry's.
func TestSkaffoldCustomBuilder(t *testing.T) {
	sk, reg, dir := generatedBuildahPackage(t)
	out := skaffoldBuild(t, sk, dir)
	if len(out.Builds) != 2 {
		t.Fatalf("builds: %+v", out.Builds)
	}
	for i, tool := range []string{"shout", "count"} {
		b := out.Builds[i]
		if b.ImageName != reg.Host+"/pkg/"+tool {
			t.Errorf("build %d is %s, want tool %s in project.toml order", i, b.ImageName, tool)
		}
	}
	servedDigests(t, out, "")
}

// skaffoldBuild runs `skaffold build -q --file-output build.json` in dir.
// generatedBuildahPackage is a package built with buildah through `cwlbuild
// plugin`, pushing to a fresh registry, with its Skaffold config generated:
// the pinned Skaffold, the registry and the package directory.
func generatedBuildahPackage(t *testing.T) (string, *testenv.Registry, string) {
	t.Helper()
	testenv.RequireImage(t, testenv.BaseImage)
	testenv.LookPath(t, "buildah")
	sk := testenv.Skaffold(t)
	reg := testenv.StartRegistry(t)
	dir := writeEnginePackage(t, reg.Host, "buildah")
	bin := testenv.BuildBinary(t, "./cmd/cwlbuild")
	if _, stderr, code := run(t, "generate", "-f", filepath.Join(dir, "project.toml"), "--plugin-command", bin); code != 0 {
		t.Fatalf("generate: %s", stderr)
	}
	return sk, reg, dir
}

// TestSkaffoldAfterBuildHook runs the after-build hook form README shows,
// `command: ["cwlpatch"]`, through Skaffold itself: Skaffold runs it in its
// working directory with SKAFFOLD_IMAGE set and no "$SKAFFOLD_IMAGE"
// expansion, and cwlpatch finds project.toml and the image on its own,
// reading the digest from the registry. Every tool ends up pinned to the
// digest the registry serves.
func TestSkaffoldAfterBuildHook(t *testing.T) {
	sk, reg, dir := generatedBuildahPackage(t)
	patcher := testenv.BuildBinary(t, "./cmd/cwlpatch")
	file := filepath.Join(dir, "skaffold-auto.yaml")
	data, _ := os.ReadFile(file)
	var cfg latest.SkaffoldConfig
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	// The hooks of README's example config, on every artifact.
	var example latest.SkaffoldConfig
	if err := yaml.Unmarshal([]byte(testenv.READMEBlockStarting(t, "build:").Text), &example); err != nil || len(example.Build.Artifacts) != 1 {
		t.Fatalf("README's after-build hook example: %v", err)
	}
	hooks := example.Build.Artifacts[0].LifecycleHooks.PostHooks
	if len(hooks) != 1 || len(hooks[0].Command) != 1 || hooks[0].Command[0] != "cwlpatch" {
		t.Fatalf("README's after-build hooks are %+v: this test runs one command, cwlpatch alone", hooks)
	}
	for _, a := range cfg.Build.Artifacts {
		a.LifecycleHooks.PostHooks = hooks
	}
	data, err := yaml.Marshal(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(file, data, 0o644)
	cmd := exec.Command(sk, "build", "-f", "skaffold-auto.yaml", "-q", "--cache-artifacts=false")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir(), "SKAFFOLD_UPDATE_CHECK=false", "PATH="+filepath.Dir(patcher)+":"+os.Getenv("PATH"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("skaffold build with the hook: %v\n%s", err, out)
	}
	cwl, _ := os.ReadFile(filepath.Join(dir, "app.cwl"))
	for _, tool := range []string{"shout", "count"} {
		want := "dockerPull: " + reg.Host + "/pkg/" + tool
		i := strings.Index(string(cwl), want)
		if i < 0 {
			t.Fatalf("%s is not pinned:\n%s", tool, cwl)
		}
		line := strings.SplitN(string(cwl)[i+len("dockerPull: "):], "\n", 2)[0]
		ref, err := imageref.Split(line)
		if err != nil || ref.Digest == "" {
			t.Fatalf("%s: %q is not pinned by digest", tool, line)
		}
		// The tag is [project] version (the package is in no git work
		// tree), kept in the pin.
		if ref.Tag != "0.1.0" {
			t.Errorf("%s: pinned with tag %q, want 0.1.0", tool, ref.Tag)
		}
		if got := reg.Digest(t, ref.Repo+":"+ref.Tag); got != ref.Digest {
			t.Errorf("%s: pinned %s, the registry serves %s", tool, ref.Digest, got)
		}
	}
}

func skaffoldBuild(t *testing.T, sk, dir string) *buildjson.Output {
	t.Helper()
	out, _ := skaffoldBuildLog(t, sk, dir, t.TempDir(), "-q")
	return out
}

// skaffoldBuildLog runs `skaffold build --file-output build.json` in dir with
// HOME (where Skaffold keeps its artifact cache) and returns its log too.
func skaffoldBuildLog(t *testing.T, sk, dir, home string, extra ...string) (*buildjson.Output, string) {
	t.Helper()
	cmd := exec.Command(sk, append([]string{"build", "-f", "skaffold-auto.yaml", "--file-output", "build.json"}, extra...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HOME="+home, "SKAFFOLD_UPDATE_CHECK=false", "SKAFFOLD_INTERACTIVE=false")
	msg, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("skaffold build: %v\n%s", err, msg)
	}
	out, err := buildjson.ReadFile(filepath.Join(dir, "build.json"), nil)
	if err != nil {
		t.Fatal(err)
	}
	return out, string(msg)
}

// servedDigests checks each build of build.json against the registry:
// its tag has a digest, and it is the one the registry serves for the tag
// (asked with skopeo, logging in with creds when not "", independently of
// the code under test). It returns the digests by image name.
func servedDigests(t *testing.T, out *buildjson.Output, creds string) map[string]string {
	t.Helper()
	got := map[string]string{}
	for _, b := range out.Builds {
		ref, err := imageref.Split(b.Tag)
		if err != nil || ref.Digest == "" {
			t.Fatalf("build.json tag %q has no digest: %v", b.Tag, err)
		}
		if want := testenv.ServedDigest(t, ref.Repo+":"+ref.Tag, creds); ref.Digest != want {
			t.Errorf("%s: build.json digest %s, registry serves %s", b.ImageName, ref.Digest, want)
		}
		got[b.ImageName] = ref.Digest
	}
	return got
}

// kanikoRun runs the Kaniko image with podman on the host network.
func kanikoRun(t *testing.T, args ...string) string {
	t.Helper()
	testenv.RequireImage(t, testenv.KanikoImage)
	podman := testenv.LookPath(t, "podman")
	cmd := exec.Command(podman, append([]string{"run", "--rm", "--network", "host"}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("podman run: %v\n%s", err, out)
	}
	return string(out)
}

// kanikoScript runs script with set -e in the Kaniko image's busybox shell,
// with dir at /workspace (the working directory) and each of progs, taken
// from the directory bin, in /kaniko, which is on the image's PATH: Kaniko
// replaces the rest of the root filesystem with each image it builds. env
// are KEY=VALUE settings, beside SKAFFOLD_UPDATE_CHECK=false.
func kanikoScript(t *testing.T, dir, bin string, progs, env []string, script string) string {
	t.Helper()
	args := []string{"-v", dir + ":/workspace", "-w", "/workspace", "-e", "SKAFFOLD_UPDATE_CHECK=false"}
	for _, prog := range progs {
		args = append(args, "-v", filepath.Join(bin, prog)+":/kaniko/"+prog+":ro")
	}
	for _, e := range env {
		args = append(args, "-e", e)
	}
	return kanikoRun(t, append(args, "--entrypoint", "/busybox/sh", testenv.KanikoImage, "-c", "set -e\n"+script)...)
}

// TestPluginKanikoInContainer runs `cwlbuild plugin --backend kaniko` inside
// the Kaniko image, as a CI job in the executor's debug image does: the
// plugin runs /kaniko/executor, which pulls the base through the project's
// registry map and pushes to the registry.
func TestPluginKanikoInContainer(t *testing.T) {
	reg := testenv.StartRegistry(t)
	reg.PushBase(t)
	dir := writeEnginePackage(t, reg.Host, "kaniko")
	bin := testenv.BuildBinary(t, "./cmd/cwlbuild")
	build := func(image string) {
		kanikoRun(t, "-v", dir+":/workspace", "-v", bin+":/usr/local/bin/cwlbuild:ro",
			"-e", "IMAGE="+image, "-e", "PUSH_IMAGE=true", "-e", "BUILD_CONTEXT=/workspace/tools/count",
			"--entrypoint", "/usr/local/bin/cwlbuild", testenv.KanikoImage,
			"plugin", "--backend", "kaniko", "-f", "/workspace/project.toml", "--tool", "count")
	}
	image := reg.Host + "/pkg/count:kaniko"
	build(image)
	d := reg.Digest(t, image)
	if !strings.HasPrefix(d, "sha256:") {
		t.Errorf("registry digest %q", d)
	}
	checkLabels(t, reg.Labels(t, image), "count", "0.1.0")
	// Reproducible: a second executor, in a fresh container with no cache,
	// gives the same digest.
	build(reg.Host + "/pkg/count:kaniko-again")
	if again := reg.Digest(t, reg.Host+"/pkg/count:kaniko-again"); again != d {
		t.Errorf("two Kaniko builds of one context: %s and %s", d, again)
	}
}

// TestClusterPathInKaniko simulates Skaffold's cluster builder: the executor
// arguments Skaffold's kaniko.Args gives the pod for the generated artifact,
// the artifact's env (KANIKO_REGISTRY_MAP), the context at
// /kaniko/buildcontext and the push secret, written by `cwlbuild auth`, at
// /kaniko/.docker/config.json. The registry requires that login.
func TestClusterPathInKaniko(t *testing.T) {
	const user, password = "kaniko", `p@ss "w0rd" $HOME 'x'`
	reg := testenv.StartRegistry(t, user, password)
	reg.PushBase(t)
	dir := writeEnginePackage(t, reg.Host, "buildah")
	proj, err := builder.Load(filepath.Join(dir, "project.toml"), builder.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	data, _, err := skaffold.Generate(proj, skaffold.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// The executor arguments and env Skaffold's own kaniko.Args gives the
	// pod (scripts/skaffold/kaniko-args runs Skaffold's code, which needs
	// the replace directives of that module).
	image := reg.Host + "/pkg/shout:cluster"
	pod := kanikoPodArgs(t, data, image)
	dockerDir := t.TempDir()
	if _, stderr, code := runStdin(t, password+"\n", "auth", "--registry", reg.Host, "--username", user, "--password-stdin", "-o", filepath.Join(dockerDir, "config.json")); code != 0 {
		t.Fatalf("auth: %s", stderr)
	}
	podmanArgs := []string{"-v", filepath.Join(dir, "tools", "shout") + ":" + pod.Context,
		"-v", filepath.Join(dockerDir, "config.json") + ":/kaniko/.docker/config.json:ro"}
	for k, v := range pod.Env {
		podmanArgs = append(podmanArgs, "-e", k+"="+v)
	}
	podmanArgs = append(podmanArgs, testenv.KanikoImage)
	kanikoRun(t, append(podmanArgs, pod.Args...)...)
	if d := reg.Digest(t, image); !strings.HasPrefix(d, "sha256:") {
		t.Errorf("registry digest %q", d)
	}
}

// TestTarInKaniko: `cwlbuild tar` inside the Kaniko image writes tarballs
// that skopeo reads, with the digest the record names, and pushing one with
// skopeo --preserve-digests yields exactly that digest in the registry.
func TestTarInKaniko(t *testing.T) {
	reg := testenv.StartRegistry(t)
	reg.PushBase(t)
	dir := writeEnginePackage(t, reg.Host, "kaniko")
	bin := testenv.BuildBinary(t, "./cmd/cwlbuild")
	agent := testenv.BuildBinary(t, "./cmd/cwlbuild-sbom")
	kanikoRun(t, "-v", dir+":/workspace", "-v", bin+":/usr/local/bin/cwlbuild:ro", "-v", agent+":/usr/local/bin/cwlbuild-sbom:ro",
		"--entrypoint", "/usr/local/bin/cwlbuild", testenv.KanikoImage,
		"tar", "-f", "/workspace/project.toml", "-o", "/workspace/out", "--tag", "1.0")
	var rec buildjson.Output
	data, err := os.ReadFile(filepath.Join(dir, "out", "build.json"))
	if err != nil || json.Unmarshal(data, &rec) != nil || len(rec.Builds) != 2 {
		t.Fatalf("build.json: %v %s", err, data)
	}
	skopeo := testenv.LookPath(t, "skopeo")
	for i, tool := range []string{"shout", "count"} {
		archive := "docker-archive:" + filepath.Join(dir, "out", tool+".tar")
		out, err := exec.Command(skopeo, "inspect", "--format", "{{.Digest}}", archive).CombinedOutput()
		if err != nil {
			t.Fatalf("skopeo inspect %s: %v\n%s", archive, err, out)
		}
		ref, _ := imageref.Split(rec.Builds[i].Tag)
		if got := strings.TrimSpace(string(out)); got != ref.Digest {
			t.Errorf("%s: skopeo reads %s, the record says %s", tool, got, ref.Digest)
		}
		dst := reg.Host + "/pkg/" + tool + ":1.0"
		if out, err := exec.Command(skopeo, "copy", "--quiet", "--preserve-digests", "--dest-tls-verify=false", archive, "docker://"+dst).CombinedOutput(); err != nil {
			t.Fatalf("skopeo copy: %v\n%s", err, out)
		}
		if got := reg.Digest(t, dst); got != ref.Digest {
			t.Errorf("%s: pushed digest %s, the record says %s", tool, got, ref.Digest)
		}
		checkLabels(t, reg.Labels(t, dst), tool, "0.1.0")
		// The SBOM beside the tarball names the image the record pins.
		sbom, err := os.ReadFile(filepath.Join(dir, "out", tool+".spdx.json"))
		if err != nil {
			t.Fatalf("no SBOM beside %s.tar: %v", tool, err)
		}
		if names := spdxPackages(t, sbom); !strings.Contains(names, ref.Repo+" ") {
			t.Errorf("%s.spdx.json names %s, not %s", tool, names, ref.Repo)
		}
	}
}

// TestGitLabRecipe builds the CI image with this repository's own chain
// (buildCIImage), then runs the GitLab job the documentation shows, its
// script lines as written, in that image (the Kaniko executor, busybox, no
// daemon, no cluster API), with GitLab's CI_REGISTRY variables naming a
// registry that requires that login: cwlbuild auth, the package's own
// `task build` (generate, Skaffold's custom builder running `cwlbuild
// plugin --backend kaniko` one image at a time, cwlpatch, SBOMs),
// cwlpatch --check. Every tool ends up pinned to the digest the registry
// serves, with its SBOM attached.
func TestGitLabRecipe(t *testing.T) {
	script := readmeGitLabScript(t)
	const user, password = "gitlab-ci-token", "s3cr3t"
	reg := testenv.StartRegistry(t, user, password)
	reg.PushBase(t)
	image := buildCIImage(t, reg, user, password)
	dir := writeEnginePackage(t, reg.Host, "kaniko")
	if _, stderr, code := run(t, "init", "-f", filepath.Join(dir, "project.toml")); code != 0 {
		t.Fatalf("init: %s", stderr)
	}
	podman := testenv.LookPath(t, "podman")
	args := []string{"run", "--rm", "--network", "host", "-v", dir + ":/workspace", "-w", "/workspace",
		"-e", "CI_REGISTRY=" + reg.Host, "-e", "CI_REGISTRY_USER=" + user, "-e", "CI_REGISTRY_PASSWORD=" + password,
		"-e", "CI_REGISTRY_IMAGE=" + reg.Host + "/pkg", "-e", "SKAFFOLD_UPDATE_CHECK=false",
		"--entrypoint", "/busybox/sh", image, "-c", "set -e\n" + strings.Join(script, "\n")}
	outBytes, err := exec.Command(podman, args...).CombinedOutput()
	out := string(outBytes)
	if err != nil {
		t.Fatalf("the GitLab job in the CI image: %v\n%s", err, out)
	}
	if strings.Contains(out, password) {
		t.Error("the job's log shows the registry password")
	}
	cwl, _ := os.ReadFile(filepath.Join(dir, "app.cwl"))
	for _, tool := range []string{"shout", "count"} {
		m := regexp.MustCompile(`dockerPull: (` + regexp.QuoteMeta(reg.Host) + `/pkg/` + tool + `\S*)`).FindSubmatch(cwl)
		if m == nil {
			t.Fatalf("%s is not pinned:\n%s\n%s", tool, cwl, out)
		}
		ref, err := imageref.Split(string(m[1]))
		if err != nil || ref.Digest == "" || ref.Tag != "0.1.0" {
			t.Fatalf("%s: pinned %q", tool, m[1])
		}
		if got := reg.Digest(t, ref.Repo+":"+ref.Tag); got != ref.Digest {
			t.Errorf("%s: pinned %s, the registry serves %s", tool, ref.Digest, got)
		}
		if !strings.Contains(out, "sbom "+ref.Repo+"@"+ref.Digest+" (spdx,") {
			t.Errorf("%s: the job attached no SBOM to %s@%s", tool, ref.Repo, ref.Digest)
		}
	}
}

// buildCIImage builds the CI image as `go tool task ci-image` does, from
// a copy of image/ whose registry is reg and whose base is the Kaniko
// image of this machine pushed there (no image can be pulled from the
// internet here), and returns it by digest. It checks the image holds the
// programs in /kaniko and carries the package's labels.
func buildCIImage(t *testing.T, reg *testenv.Registry, user, password string) string {
	t.Helper()
	root := testenv.ModuleRoot()
	base := reg.PushLocal(t, testenv.KanikoImage, "osscontainertools/kaniko:debug")
	pkg := filepath.Join(t.TempDir(), "image")
	testenv.CopyTree(t, filepath.Join(root, "image"), pkg, nil)
	toml, _ := os.ReadFile(filepath.Join(pkg, "project.toml"))
	toml = []byte(subst(t, string(toml), `registry = "ghcr.io/eoap"`, `registry = "`+reg.Host+`/eoap"`,
		"path = \"cwl/check-package.cwl#cwlbuild-ci\"\n", "path = \"cwl/check-package.cwl#cwlbuild-ci\"\nbuildArgs = { KANIKO_DEBUG = \""+base+"\" }\n"))
	os.WriteFile(filepath.Join(pkg, "project.toml"), toml, 0o644)
	cwl, _ := os.ReadFile(filepath.Join(pkg, "cwl", "check-package.cwl"))
	os.WriteFile(filepath.Join(pkg, "cwl", "check-package.cwl"), []byte(subst(t, string(cwl), "ghcr.io/eoap/", reg.Host+"/eoap/")), 0o644)
	testenv.FakeWorkTree(t, pkg)
	docker := t.TempDir()
	if _, stderr, code := runStdin(t, password+"\n", "auth", "--registry", reg.Host, "--username", user, "--password-stdin", "-o", filepath.Join(docker, "config.json")); code != 0 {
		t.Fatalf("auth: %s", stderr)
	}
	cmd := exec.Command(filepath.Join(root, "scripts", "ci-image.sh"), pkg)
	cmd.Env = append(os.Environ(), "DOCKER_CONFIG="+docker, "REGISTRY_AUTH_FILE="+filepath.Join(docker, "config.json"),
		"SKAFFOLD_UPDATE_CHECK=false", "SKAFFOLD_INTERACTIVE=false")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("scripts/ci-image.sh: %v\n%s", err, out)
	}
	out, err := buildjson.ReadFile(filepath.Join(pkg, "build.json"), nil)
	if err != nil || len(out.Builds) != 1 {
		t.Fatalf("the CI image's build.json: %v %+v", err, out)
	}
	ref, _ := imageref.Split(out.Builds[0].Tag)
	image := ref.Repo + "@" + ref.Digest
	checkLabels(t, reg.Labels(t, image), "cwlbuild-ci", "0.1.0")
	pull := exec.Command(testenv.LookPath(t, "podman"), "pull", "-q", "--tls-verify=false", "--creds", user+":"+password, image)
	if msg, err := pull.CombinedOutput(); err != nil {
		t.Fatalf("podman pull %s: %v\n%s", image, err, msg)
	}
	t.Cleanup(func() { exec.Command("podman", "rmi", "-f", image).Run() })
	probe := exec.Command("podman", "run", "--rm", "--entrypoint", "/busybox/sh", image, "-c",
		"for p in cwlbuild cwlpatch cwlbuild-sbom skaffold task executor; do test -x /kaniko/$p || echo missing $p; done; cwlbuild --version")
	if msg, err := probe.CombinedOutput(); err != nil || strings.Contains(string(msg), "missing") || !strings.Contains(string(msg), "cwlbuild version") {
		t.Fatalf("the CI image's /kaniko: %v\n%s", err, msg)
	}
	return image
}

// readmeGitLabScript is the script of the GitLab job in README.md.
func readmeGitLabScript(t *testing.T) []string {
	t.Helper()
	block := testenv.READMEBlockStarting(t, "build-images:").Text
	var job map[string]struct {
		Script []string `yaml:"script"`
	}
	if err := yaml.Unmarshal([]byte(block), &job); err != nil || len(job["build-images"].Script) == 0 {
		t.Fatalf("README's GitLab job: %v\n%s", err, block)
	}
	return job["build-images"].Script
}

// TestPluginBuildKit: the plugin's buildkit backend sends the build to a
// real buildkitd through BuildKit's Go client. The registry needs a login,
// which the daemon has not: the build's session answers it from the user's
// Docker config, and a wrong password fails the build naming the tool. The
// base comes through the registry map (a named context); the digest file
// holds what the registry serves; the daemon's cache makes a no-op rebuild
// all "cached" with the same digest, also after every file of the context
// got a new time (a fresh checkout); with [build] reproducible = true
// written, a fresh daemon with an empty cache makes the same digest again.
func TestPluginBuildKit(t *testing.T) {
	reg := testenv.StartRegistry(t, "builder", "s3cret pass")
	reg.PushBase(t)
	d := testenv.StartBuildKitd(t)
	dir := writeEnginePackage(t, reg.Host, "buildkit")
	toml := filepath.Join(dir, "project.toml")
	login := func(password string) {
		t.Helper()
		cfg := t.TempDir()
		if _, err := dockerconfig.WriteFile(filepath.Join(cfg, "config.json"), dockerconfig.Credential{Registry: reg.Host, Username: "builder", Password: password}); err != nil {
			t.Fatal(err)
		}
		t.Setenv("DOCKER_CONFIG", cfg)
	}
	context := filepath.Join(dir, "tools", "shout")
	build := func(d *testenv.BuildKitd, tag string, flags ...string) (digest, log string, code int) {
		t.Helper()
		ref := reg.Host + "/pkg/shout:" + tag
		digestFile := filepath.Join(t.TempDir(), "digest")
		out, stderr, code := run(t, append([]string{"plugin", "--backend", "buildkit", "--buildkit-addr", d.Addr, "-f", filepath.Join(dir, "project.toml"), "--tool", "shout",
			"--image", ref, "--context", context, "--digest-file", digestFile}, flags...)...)
		if code != 0 {
			return "", out + stderr, code
		}
		got, _ := os.ReadFile(digestFile)
		if want := reg.Digest(t, ref); string(got) != want {
			t.Errorf("build %s: digest file %q, registry serves %s", tag, got, want)
		}
		return string(got), out + stderr, 0
	}

	login("wrong")
	if _, log, code := build(d, "denied"); code == 0 || !strings.Contains(log, "tool shout") || !strings.Contains(log, "401") && !strings.Contains(strings.ToLower(log), "unauthorized") {
		t.Errorf("a wrong password: exit %d, want a failure naming the tool and the refusal:\n%s", code, log)
	}
	login("s3cret pass")
	cold, log, code := build(d, "cold")
	if code != 0 {
		t.Fatalf("exit %d:\n%s\ndaemon log: %s", code, log, readFile(t, d.Log))
	}
	checkLabels(t, reg.Labels(t, reg.Host+"/pkg/shout:cold"), "shout", "0.1.0")
	if !strings.Contains(log, "buildkit: [1/3] COPY run.sh") {
		t.Errorf("no progress line for the COPY step:\n%s", log)
	}
	later := time.Now().Add(time.Hour)
	filepath.WalkDir(filepath.Join(dir, "tools", "shout"), func(p string, _ fs.DirEntry, _ error) error { return os.Chtimes(p, later, later) })
	warm, log, _ := build(d, "warm")
	for _, step := range []string{"[1/3] COPY run.sh /usr/local/bin/shout: cached", "[2/3] RUN chmod 755 /usr/local/bin/shout && echo built > /built: cached"} {
		if !strings.Contains(log, "buildkit: "+step) {
			t.Errorf("the rebuild of an unchanged context does not say %q:\n%s", step, log)
		}
	}
	if cold != warm {
		t.Errorf("one context built with an empty cache, then again with a warm one and new file times: %s, then %s", cold, warm)
	}
	// Two tools' contexts whose files have the same size and the same
	// time, built one after the other: each image holds its own file (the
	// daemon keeps a copy of each context it was sent and sends only
	// what changed, by size and time: it must not start from the other's).
	for i, word := range []string{"alpha", "omega"} {
		context = filepath.Join(t.TempDir(), word)
		os.MkdirAll(context, 0o755)
		os.WriteFile(filepath.Join(context, "Dockerfile"), []byte("FROM docker.io/library/busybox:1.36\nCOPY run.sh /run.sh\n"), 0o644)
		os.WriteFile(filepath.Join(context, "run.sh"), []byte("echo "+word+"\n"), 0o755)
		os.Chtimes(filepath.Join(context, "run.sh"), later, later)
		if _, log, code := build(d, word); code != 0 {
			t.Fatalf("build %s: %s", word, log)
		}
		if got := imageFile(t, reg.Host+"/pkg/shout:"+word, "builder", "s3cret pass", "run.sh"); got != "echo "+word+"\n" {
			t.Errorf("build %d of a context holding %q: the image holds %q", i+1, "echo "+word, got)
		}
	}
	// The same context again, its file edited to another of the same size
	// and its old time put back (cp -p, rsync -t): the image holds the edit.
	os.WriteFile(filepath.Join(context, "run.sh"), []byte("echo gamma\n"), 0o755)
	os.Chtimes(filepath.Join(context, "run.sh"), later, later)
	if _, log, code := build(d, "gamma"); code != 0 {
		t.Fatalf("build gamma: %s", log)
	}
	if got := imageFile(t, reg.Host+"/pkg/shout:gamma", "builder", "s3cret pass", "run.sh"); got != "echo gamma\n" {
		t.Errorf("an edit that kept the file's size and time: the image holds %q", got)
	}
	context = filepath.Join(dir, "tools", "shout")
	// The pass over every layer: an empty daemon makes the same image.
	data, _ := os.ReadFile(toml)
	os.WriteFile(toml, []byte(strings.Replace(string(data), "engine = \"local\"\n", "engine = \"local\"\nreproducible = true\n", 1)), 0o644)
	first, _, code := build(d, "strict")
	again, _, code2 := build(testenv.StartBuildKitd(t), "again")
	if code != 0 || code2 != 0 || first != again {
		t.Errorf("[build] reproducible = true: one context built by a warm daemon and by a fresh one: %s and %s (exit %d, %d)", first, again, code, code2)
	}
	// The registry cache: a daemon that starts empty takes every step from
	// what an earlier daemon wrote to the registry, and makes its image.
	os.WriteFile(toml, data, 0o644)
	exported, log, code := build(testenv.StartBuildKitd(t), "exported", "--cache-repo", reg.Host+"/cache")
	if code != 0 {
		t.Fatalf("a build writing the registry cache: %s", log)
	}
	cacheRef, _ := name2.ParseReference(reg.Host+"/cache:buildkit-pkg-shout", name2.Insecure)
	if _, err := remote.Head(cacheRef, remote.WithAuth(&authn.Basic{Username: "builder", Password: "s3cret pass"})); err != nil {
		t.Errorf("the registry cache %s: %v", cacheRef, err)
	}
	imported, log, code := build(testenv.StartBuildKitd(t), "imported", "--cache-repo", reg.Host+"/cache")
	for _, step := range []string{"[1/3] COPY run.sh /usr/local/bin/shout: cached", "[2/3] RUN chmod 755 /usr/local/bin/shout && echo built > /built: cached"} {
		if !strings.Contains(log, "buildkit: "+step) {
			t.Errorf("an empty daemon with the registry cache does not say %q:\n%s", step, log)
		}
	}
	if code != 0 || imported != exported {
		t.Errorf("one context, the second daemon from the first's registry cache: %s, then %s (exit %d)", exported, imported, code)
	}
	if _, log, code := build(d, "nocache", "--cache-repo", reg.Host+"/cache:v1"); code == 0 || !strings.Contains(log, "without tag") {
		t.Errorf("a cache repository with a tag: exit %d\n%s", code, log)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, _ := os.ReadFile(path)
	return string(data)
}

// TestSkaffoldBuildKit: [build.local] runtime = "buildkit" through the
// pinned Skaffold: the generated custom artifacts run `cwlbuild plugin`,
// which reaches the daemon $BUILDKIT_HOST names; build.json holds the
// registry's digests; after a change to one tool's code, a second
// Skaffold run changes that tool's digest alone.
func TestSkaffoldBuildKit(t *testing.T) {
	sk := testenv.Skaffold(t)
	reg := testenv.StartRegistry(t)
	reg.PushBase(t)
	d := testenv.StartBuildKitd(t)
	t.Setenv("BUILDKIT_HOST", d.Addr)
	dir := writeEnginePackage(t, reg.Host, "buildkit")
	bin := testenv.BuildBinary(t, "./cmd/cwlbuild")
	if _, stderr, code := run(t, "generate", "-f", filepath.Join(dir, "project.toml"), "--plugin-command", bin); code != 0 {
		t.Fatalf("generate: %s", stderr)
	}
	digests := func(out *buildjson.Output) map[string]string {
		t.Helper()
		got := map[string]string{}
		for _, b := range out.Builds {
			ref, err := imageref.Split(b.Tag)
			if err != nil || ref.Digest == "" {
				t.Fatalf("tag %q has no digest: %v", b.Tag, err)
			}
			if want := reg.Digest(t, ref.Repo+":"+ref.Tag); ref.Digest != want {
				t.Errorf("%s: build.json digest %s, registry serves %s", b.ImageName, ref.Digest, want)
			}
			got[path.Base(b.ImageName)] = ref.Digest
		}
		return got
	}
	first, log := skaffoldBuildLog(t, sk, dir, t.TempDir())
	if !strings.Contains(log, "buildkit: pushed") {
		t.Errorf("Skaffold's log shows no buildkit build:\n%s", log)
	}
	before := digests(first)
	if len(before) != 2 {
		t.Fatalf("builds: %+v", first.Builds)
	}
	os.WriteFile(filepath.Join(dir, "tools", "count", "run.sh"), []byte("#!/bin/sh\necho counted \"$#\"\n"), 0o644)
	second, _ := skaffoldBuildLog(t, sk, dir, t.TempDir())
	after := digests(second)
	if after["shout"] != before["shout"] || after["count"] == before["count"] {
		t.Errorf("after a change to count's code: shout %s → %s, count %s → %s; want shout the same, count new", before["shout"], after["shout"], before["count"], after["count"])
	}
}

// TestPluginBuildKitFaults: a buildkitd that is not there, and one killed
// in the middle of a build: each build fails at once with a line naming
// the tool and the daemon, and leaves no digest file behind.
func TestPluginBuildKitFaults(t *testing.T) {
	reg := testenv.StartRegistry(t)
	reg.PushBase(t)
	dir := writeEnginePackage(t, reg.Host, "buildkit")
	os.WriteFile(filepath.Join(dir, "tools", "shout", "Dockerfile"), []byte("FROM docker.io/library/busybox:1.36\nRUN sleep 300\n"), 0o644)
	build := func(addr string) (string, string, int) {
		t.Helper()
		digestFile := filepath.Join(t.TempDir(), "digest")
		_, stderr, code := run(t, "plugin", "--backend", "buildkit", "--buildkit-addr", addr, "-f", filepath.Join(dir, "project.toml"), "--tool", "shout",
			"--image", reg.Host+"/pkg/shout:fault", "--context", filepath.Join(dir, "tools", "shout"), "--digest-file", digestFile)
		if _, err := os.Stat(digestFile); err == nil {
			t.Errorf("a failed build wrote %s", digestFile)
		}
		return stderr, digestFile, code
	}

	none := "unix://" + filepath.Join(t.TempDir(), "none.sock")
	if stderr, _, code := build(none); code == 0 || !strings.Contains(stderr, "tool shout") || !strings.Contains(stderr, "buildkitd at "+none+" is not reachable (start one with scripts/buildkitd.sh start") {
		t.Errorf("no daemon: exit %d: %s", code, stderr)
	}

	d := testenv.StartBuildKitd(t)
	time.AfterFunc(3*time.Second, d.Kill)
	start := time.Now()
	stderr, _, code := build(d.Addr)
	if code == 0 || !strings.Contains(stderr, "building tool shout") || !strings.Contains(stderr, "buildkitd at "+d.Addr) {
		t.Errorf("daemon killed mid-build: exit %d: %s", code, stderr)
	}
	if took := time.Since(start); took > 120*time.Second {
		t.Errorf("the build noticed the daemon's death after %s (its RUN step lasts 300 s): it waits for a dead daemon", took)
	}
}

// imageFile reads a file of an image's top layer from its registry.
func imageFile(t *testing.T, ref, user, password, name string) string {
	t.Helper()
	r, err := name2.ParseReference(ref, name2.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	img, err := remote.Image(r, remote.WithAuth(&authn.Basic{Username: user, Password: password}))
	if err != nil {
		t.Fatal(err)
	}
	layers, err := img.Layers()
	if err != nil || len(layers) == 0 {
		t.Fatalf("%s: layers: %v", ref, err)
	}
	rc, err := layers[len(layers)-1].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err != nil {
			t.Fatalf("%s: no %s in its top layer: %v", ref, name, err)
		}
		if strings.TrimPrefix(h.Name, "./") == name {
			data, _ := io.ReadAll(tr)
			return string(data)
		}
	}
}
