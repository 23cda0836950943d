package main

import (
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/eoap/cwlbuild/internal/dockerconfig"
	"github.com/eoap/cwlbuild/internal/imageref"
	"github.com/eoap/cwlbuild/internal/testenv"
	"github.com/eoap/cwlbuild/skaffold/buildjson"
)

// TestClusterBuildKit: [build.cluster] builder = "buildkit" in the real
// cluster. docs/cluster.md's manifests, applied as written (the image and
// the registries' plain HTTP aside), run buildkitd as a StatefulSet whose
// state is on a persistent volume; Skaffold runs the plugin, which reaches
// the pod's loopback through the agent's port-forward with the push login
// of this machine's Docker config. build.json holds the digests the
// registry serves; after a change to one tool's code only its digest
// moves, and its heavy step is taken from the daemon's cache; `check
// --cluster` reaches the daemon first the same way. The pod is
// then deleted: the StatefulSet's new pod keeps the cache on its volume.
func TestClusterBuildKit(t *testing.T) {
	env := clusterEnv(t)
	sk := testenv.Skaffold(t)
	skopeo := testenv.LookPath(t, "skopeo")
	ns, kubectl := clusterNamespace(t, env, "buildkit")
	mirror, push := env["CLUSTER_MIRROR"], env["CLUSTER_PUSH_REGISTRY"]

	// A volume for the state claim: this cluster has no provisioner.
	state := t.TempDir()
	pv := ns + "-state"
	kubectl(fmt.Sprintf("apiVersion: v1\nkind: PersistentVolume\nmetadata: {name: %s}\nspec:\n  capacity: {storage: 50Gi}\n  accessModes: [ReadWriteOnce]\n  persistentVolumeReclaimPolicy: Delete\n  claimRef: {namespace: %s, name: state-buildkitd-0}\n  hostPath: {path: %s}\n", pv, ns, state), "apply", "-f", "-")
	t.Cleanup(func() {
		c := exec.Command("kubectl", "delete", "pv", pv, "--wait=false")
		c.Env = append(os.Environ(), "KUBECONFIG="+env["KUBECONFIG"])
		c.Run()
	})
	manifests := testenv.READMEBlockStarting(t, "# buildkitd for [build.cluster]").Text
	for old, new := range map[string]string{
		"image: docker.io/moby/buildkit:v0.30.0":                           "image: " + env["CLUSTER_BUILDKIT_IMAGE"],
		"    # [registry.\"harbor.internal:5000\"]\n    #   http = true\n": fmt.Sprintf("    [registry.%q]\n      http = true\n    [registry.%q]\n      http = true\n", mirror, push),
	} {
		if !strings.Contains(manifests, old) {
			t.Fatalf("docs/cluster.md's manifests no longer hold %q", old)
		}
		manifests = strings.Replace(manifests, old, new, 1)
	}
	kubectl(manifests, "apply", "-n", ns, "-f", "-")

	dir := writeEnginePackage(t, push, "buildkit")
	toml := readFile(t, filepath.Join(dir, "project.toml"))
	for old, new := range map[string]string{
		`engine = "local"`: `engine = "cluster"`,
		`namespace = "ns"`: fmt.Sprintf("namespace = %q\nbuilder = \"buildkit\"", ns),
		`"index.docker.io" = ` + fmt.Sprintf("%q", push): `"index.docker.io" = ` + fmt.Sprintf("%q", mirror),
	} {
		if !strings.Contains(toml, old) {
			t.Fatalf("the engine package's project.toml has no %q", old)
		}
		toml = strings.Replace(toml, old, new, 1)
	}
	// count's heavy step, before its code.
	countDockerfile := filepath.Join(dir, "tools", "count", "Dockerfile")
	df := strings.Replace(readFile(t, countDockerfile), "\n", "\nRUN mkdir -p /opt/heavy && for i in $(seq 1 500); do head -c 20000 /dev/urandom > /opt/heavy/f$i; done\n", 1)
	os.WriteFile(countDockerfile, []byte(df), 0o644)
	os.WriteFile(filepath.Join(dir, "project.toml"), []byte(toml), 0o644)

	password, err := os.ReadFile(env["CLUSTER_PUSH_PASSWORD_FILE"])
	if err != nil {
		t.Fatal(err)
	}
	cfg := t.TempDir()
	if _, err := dockerconfig.WriteFile(filepath.Join(cfg, "config.json"), dockerconfig.Credential{Registry: push, Username: env["CLUSTER_PUSH_USER"], Password: strings.TrimSpace(string(password))}); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DOCKER_CONFIG", cfg)
	t.Setenv("KUBECONFIG", env["KUBECONFIG"])
	t.Setenv("PATH", buildAgent(t)+string(os.PathListSeparator)+os.Getenv("PATH"))
	bin := testenv.BuildBinary(t, "./cmd/cwlbuild")
	if _, stderr, code := run(t, "generate", "-f", filepath.Join(dir, "project.toml"), "--plugin-command", bin); code != 0 {
		t.Fatalf("generate: %s", stderr)
	}
	// The pre-flight reaches the daemon the way the builds will.
	out, stderr, code := run(t, "check", "--cluster", "-f", filepath.Join(dir, "project.toml"))
	if code != 0 || !regexp.MustCompile(`ok    buildkitd: buildkitd \S+ at kube-pod://buildkitd-0\?namespace=`+ns+`, platforms linux/amd64`).MatchString(out) || strings.Contains(out, "Kaniko") {
		t.Fatalf("check --cluster: exit %d\n%s%s", code, out, stderr)
	}
	creds := env["CLUSTER_PUSH_USER"] + ":" + strings.TrimSpace(string(password))
	digests := func(out *buildjson.Output) map[string]string {
		t.Helper()
		got := map[string]string{}
		for _, b := range out.Builds {
			ref, err := imageref.Split(b.Tag)
			if err != nil || ref.Digest == "" {
				t.Fatalf("tag %q has no digest: %v", b.Tag, err)
			}
			o, err := exec.Command(skopeo, "inspect", "--tls-verify=false", "--creds", creds, "--format", "{{.Digest}}", "docker://"+ref.Repo+":"+ref.Tag).Output()
			if want := strings.TrimSpace(string(o)); err != nil || ref.Digest != want {
				t.Errorf("%s: build.json digest %s, registry serves %q (%v)", b.ImageName, ref.Digest, want, err)
			}
			got[path.Base(b.ImageName)] = ref.Digest
		}
		return got
	}
	start := time.Now()
	first, log := skaffoldBuildLog(t, sk, dir, t.TempDir())
	t.Logf("cold build of 2 tools: %.1fs", time.Since(start).Seconds())
	before := digests(first)
	if len(before) != 2 || !strings.Contains(log, "buildkit: pushed "+push) {
		t.Fatalf("builds %v; log:\n%s", before, log)
	}

	os.WriteFile(filepath.Join(dir, "tools", "count", "run.sh"), []byte("#!/bin/sh\necho counted \"$#\"\n"), 0o644)
	start = time.Now()
	second, log := skaffoldBuildLog(t, sk, dir, t.TempDir())
	t.Logf("one tool's code changed: %.1fs", time.Since(start).Seconds())
	after := digests(second)
	if after["shout"] != before["shout"] || after["count"] == before["count"] {
		t.Errorf("after a change to count's code: shout %s → %s, count %s → %s; want shout the same, count new", before["shout"], after["shout"], before["count"], after["count"])
	}
	if !strings.Contains(log, "/opt/heavy/f$i; done: cached") {
		t.Errorf("count's heavy step ran again:\n%s", log)
	}

	// A new pod of the StatefulSet, the same volume: the cache stays.
	kubectl("", "delete", "pod", "-n", ns, "buildkitd-0", "--wait=true")
	os.WriteFile(filepath.Join(dir, "tools", "count", "run.sh"), []byte("#!/bin/sh\necho counted again \"$#\"\n"), 0o644)
	_, log = skaffoldBuildLog(t, sk, dir, t.TempDir())
	if !strings.Contains(log, "/opt/heavy/f$i; done: cached") {
		t.Errorf("after the pod was replaced, count's heavy step ran again:\n%s", log)
	}
}
