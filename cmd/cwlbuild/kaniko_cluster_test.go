package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/eoap/cwlbuild/internal/imageref"
	"github.com/eoap/cwlbuild/internal/testenv"
	"github.com/eoap/cwlbuild/skaffold/buildjson"
)

const kanikoMultiCWL = `cwlVersion: v1.2
$graph:
- class: CommandLineTool
  id: shout
  requirements: {DockerRequirement: {dockerPull: "shout"}}
  baseCommand: [shout]
  inputs: []
  outputs: []
- class: CommandLineTool
  id: count
  requirements: {DockerRequirement: {dockerPull: "count"}}
  baseCommand: [count]
  inputs: []
  outputs: []
`

// TestClusterKanikoMultiPlatform: `task build` of a package whose tool
// shout is built for linux/amd64 and linux/arm64 with the cluster's kaniko
// builder, in the real single-node (amd64) cluster. Without [build.cluster]
// emulation the pre-flight `task build` runs, and the plugin itself,
// fail naming linux/arm64 and the nodes' architecture before any Kaniko
// pod starts. With it, one Kaniko pod per platform builds (the arm64 one
// on the amd64 node, its RUN step under QEMU), cwlbuild pushes the index,
// build.json holds the index digest the registry serves and cwlpatch pins
// it; the index holds both platforms, each config of its own
// architecture; the arm64 image runs (emulated) and its RUN step wrote
// aarch64. count, of one platform, stays one of Skaffold's own Kaniko
// pods and one image. No pod is left.
func TestClusterKanikoMultiPlatform(t *testing.T) {
	testenv.RequireEmulation(t)
	env := clusterEnv(t)
	ns, kubectl := clusterNamespace(t, env, "kaniko-multi")
	mirror, push := env["CLUSTER_MIRROR"], env["CLUSTER_PUSH_REGISTRY"]
	(&testenv.Registry{Host: mirror}).PushBaseIndexAs(t, "cwlbuild-test/busybox-index:1.36")

	tools := buildAgent(t)
	chainTools(t, tools)
	dir := t.TempDir()
	docker := filepath.Join(t.TempDir(), ".docker")
	cmdEnv := append(os.Environ(), "KUBECONFIG="+env["KUBECONFIG"], "PATH="+tools+string(os.PathListSeparator)+os.Getenv("PATH"),
		"HOME="+t.TempDir(), "DOCKER_CONFIG="+docker, "SKAFFOLD_UPDATE_CHECK=false", "SKAFFOLD_INTERACTIVE=false")
	cwlbuild := filepath.Join(tools, "cwlbuild")
	pushSecrets(t, env, cwlbuild, push, ns, kubectl)
	password, err := os.ReadFile(env["CLUSTER_PUSH_PASSWORD_FILE"])
	if err != nil {
		t.Fatal(err)
	}
	creds := env["CLUSTER_PUSH_USER"] + ":" + strings.TrimSpace(string(password))
	// The plugin pushes the index, and Skaffold reads digests, with this
	// machine's login.
	c := exec.Command(cwlbuild, "auth", "--registry", push, "-u", env["CLUSTER_PUSH_USER"], "--password-stdin", "--output", filepath.Join(docker, "config.json"))
	c.Stdin = bytes.NewReader(password)
	if o, err := c.CombinedOutput(); err != nil {
		t.Fatalf("cwlbuild auth: %v\n%s", err, o)
	}

	writeProject := func(emulation bool) {
		extra := ""
		if emulation {
			extra = "emulation = true\n"
		}
		os.WriteFile(filepath.Join(dir, "project.toml"), []byte(`[project]
name = "multi"
version = "0.1.0"

[build]
engine = "cluster"
platforms = ["linux/amd64", "linux/arm64"]

[build.cluster]
namespace = "`+ns+`"
serviceAccount = "kaniko-sa"
registry = "`+push+`/`+ns+`"
secret = "push"
preflight = true
`+extra+`
[build.kaniko]
image = "`+env["CLUSTER_KANIKO_IMAGE"]+`"
initImage = "`+env["CLUSTER_INIT_IMAGE"]+`"
insecureRegistries = ["`+push+`", "`+mirror+`"]

[release]
sbom = "none"

[tools.shout]
context = "shout"
path = "app.cwl#shout"

[tools.count]
context = "count"
path = "app.cwl#count"
platforms = ["linux/amd64"]
`), 0o644)
	}
	writeProject(false)
	os.WriteFile(filepath.Join(dir, "app.cwl"), []byte(kanikoMultiCWL), 0o644)
	for tool, from := range map[string]string{"shout": mirror + "/cwlbuild-test/busybox-index:1.36", "count": mirror + "/library/busybox:1.36"} {
		os.MkdirAll(filepath.Join(dir, tool), 0o755)
		os.WriteFile(filepath.Join(dir, tool, "Dockerfile"), []byte("FROM "+from+"\nCOPY run.sh /usr/local/bin/"+tool+"\nRUN chmod 755 /usr/local/bin/"+tool+" && uname -m > /built\n"), 0o644)
		os.WriteFile(filepath.Join(dir, tool, "run.sh"), []byte("#!/bin/sh\necho "+tool+" \"$@\"\n"), 0o644)
	}
	if o, err := runIn(dir, cmdEnv, cwlbuild, "init"); err != nil {
		t.Fatalf("cwlbuild init: %v\n%s", err, o)
	}
	cwlBefore := readFile(t, filepath.Join(dir, "app.cwl"))

	// No node runs arm64 and emulation is not allowed: the pre-flight and
	// the plugin say so, before any pod.
	outb, err := runIn(dir, cmdEnv, filepath.Join(tools, "task"), "build")
	out := string(outb)
	want := "the cluster has no node for linux/arm64 (its nodes are amd64)"
	if err == nil || !strings.Contains(out, "FAIL  node architectures: "+want) {
		t.Fatalf("task build without an arm64 node or emulation: %v, want the pre-flight's %q\n%s", err, want, out)
	}
	if got := readFile(t, filepath.Join(dir, "app.cwl")); got != cwlBefore {
		t.Errorf("a failed build changed app.cwl:\n%s", got)
	}
	cmd := exec.Command(cwlbuild, "plugin", "--backend", "kaniko", "--cluster", "--tool", "shout", "-f", "project.toml", "--image", push+"/"+ns+"/shout:refused", "--context", "shout")
	cmd.Dir, cmd.Env = dir, cmdEnv
	o, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(o), want) || strings.Contains(string(o), "] pod ") {
		t.Errorf("plugin without an arm64 node or emulation: %v, want %q and no pod:\n%s", err, want, o)
	}

	writeProject(true)
	start := time.Now()
	outb, err = runIn(dir, cmdEnv, filepath.Join(tools, "task"), "build")
	out = string(outb)
	t.Logf("task build, shout for two platforms (arm64 emulated) and count for one: %.1fs", time.Since(start).Seconds())
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "] pod ") || strings.Contains(line, "pushed") || strings.Contains(line, "node architectures") {
			t.Log(line)
		}
	}
	if err != nil {
		t.Fatalf("task build with emulation: %v\n%s", err, out)
	}
	for _, line := range []string{"ok    node architectures: the nodes are amd64: linux/amd64 on amd64 nodes, linux/arm64 under emulation", "[linux/arm64] pod " + ns + "/", "on any node, emulated", "[linux/amd64] pod " + ns + "/", "kaniko: pushed the index " + push + "/" + ns + "/shout:"} {
		if !strings.Contains(out, line) {
			t.Errorf("task build's log lacks %q:\n%s", line, out)
		}
	}
	builds, err := buildjson.ReadFile(filepath.Join(dir, "build.json"), nil)
	if err != nil {
		t.Fatal(err)
	}
	servedDigests(t, builds, creds)
	skopeo := testenv.LookPath(t, "skopeo")
	cwl := readFile(t, filepath.Join(dir, "app.cwl"))
	var shout string
	for _, b := range builds.Builds {
		ref, err := imageref.Split(b.Tag)
		if err != nil || ref.Digest == "" {
			t.Fatalf("build.json tag %q: %v", b.Tag, err)
		}
		served, err := exec.Command(skopeo, "inspect", "--raw", "--tls-verify=false", "--creds", creds, "docker://"+ref.Repo+":"+ref.Tag).Output()
		if err != nil {
			t.Fatalf("skopeo inspect --raw %s: %v", b.Tag, err)
		}
		var m struct {
			MediaType string `json:"mediaType"`
			Manifests []struct {
				Platform struct{ OS, Architecture string } `json:"platform"`
			} `json:"manifests"`
		}
		json.Unmarshal(served, &m)
		if !strings.Contains(cwl, `dockerPull: "`+b.Tag+`"`) {
			t.Errorf("app.cwl does not pin %s:\n%s", b.Tag, cwl)
		}
		var plats []string
		for _, e := range m.Manifests {
			plats = append(plats, strings.ToLower(e.Platform.OS+"/"+e.Platform.Architecture))
		}
		slices.Sort(plats)
		switch filepath.Base(ref.Repo) {
		case "shout":
			shout = ref.Repo + "@" + ref.Digest
			if !slices.Equal(plats, []string{"linux/amd64", "linux/arm64"}) {
				t.Errorf("shout is not an index of linux/amd64 and linux/arm64: %s", served)
			}
			for _, arch := range []string{"amd64", "arm64"} {
				cfg, err := exec.Command(skopeo, "inspect", "--config", "--tls-verify=false", "--creds", creds, "--override-arch", arch, "docker://"+shout).Output()
				var c struct {
					Architecture string `json:"architecture"`
				}
				if err != nil || json.Unmarshal(cfg, &c) != nil || c.Architecture != arch {
					t.Errorf("shout's %s image: config architecture %q (%v)", arch, c.Architecture, err)
				}
			}
		case "count":
			if len(m.Manifests) != 0 {
				t.Errorf("count, of one platform, is an index: %s", served)
			}
		default:
			t.Errorf("unexpected build %s", b.Tag)
		}
	}
	if shout == "" {
		t.Fatalf("build.json has no shout: %+v", builds)
	}
	got, err := exec.Command("podman", "run", "--rm", "--quiet", "--tls-verify=false", "--authfile", filepath.Join(docker, "config.json"), "--platform", "linux/arm64", shout,
		"sh", "-c", "uname -m; cat /built; shout hello").CombinedOutput()
	if err != nil || string(got) != "aarch64\naarch64\nshout hello\n" {
		t.Errorf("shout's arm64 image run: %v\n%s", err, got)
	}
	if left := kubectl("", "get", "pods", "-n", ns, "-l", "app.kubernetes.io/name=cwlbuild-kaniko", "-o", "name"); strings.TrimSpace(left) != "" {
		t.Errorf("Kaniko pods left: %s", left)
	}
}
