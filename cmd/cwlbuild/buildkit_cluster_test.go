package main

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/eoap/cwlbuild/internal/dockerconfig"
	"github.com/eoap/cwlbuild/internal/testenv"
	"github.com/eoap/cwlbuild/skaffold/buildjson"
)

// TestClusterBuildKit: [build.cluster] builder = "buildkit" in the real
// cluster. docs/cluster.md's manifests, applied as written (the image and
// the registries' plain HTTP aside), run buildkitd as a StatefulSet whose
// state is on a persistent volume; Skaffold runs the plugin, which reaches
// the daemon's unix socket by running `buildctl dial-stdio` in its pod
// through the agent, with the push login of this machine's Docker config;
// a RUN step finds neither the socket nor a port of the daemon's to send
// it builds of its own. build.json holds the digests the
// registry serves; after a change to one tool's code only its digest
// moves, and its heavy step is taken from the daemon's cache; `check
// --cluster` reaches the daemon first the same way. The pod is
// then deleted: the StatefulSet's new pod keeps the cache on its volume.
func TestClusterBuildKit(t *testing.T) {
	env := clusterEnv(t)
	sk := testenv.Skaffold(t)
	testenv.LookPath(t, "skopeo")
	ns, kubectl := clusterNamespace(t, env, "buildkit")
	mirror, push := env["CLUSTER_MIRROR"], env["CLUSTER_PUSH_REGISTRY"]

	applyBuildKitd(t, env, ns, kubectl, mirror, push)

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
	// shout's RUN step reaches for the daemon: the port an earlier
	// manifest listened on, its socket. Either found fails the build.
	shoutDockerfile := filepath.Join(dir, "tools", "shout", "Dockerfile")
	os.WriteFile(shoutDockerfile, []byte(readFile(t, shoutDockerfile)+"RUN ! nc -w 2 127.0.0.1 1234 </dev/null && test ! -e /run/buildkit/buildkitd.sock && echo the daemon is out of reach\n"), 0o644)
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
	// A platform the daemon cannot build (no emulator for it on the
	// node) fails the pre-flight `task build` runs, naming the tool.
	os.WriteFile(filepath.Join(dir, "project.toml"), []byte(strings.Replace(toml, "[build]\n", "[build]\nplatforms = [\"linux/amd64\", \"linux/s390x\"]\n", 1)), 0o644)
	data, _ := os.ReadFile(filepath.Join(dir, "project.toml"))
	os.WriteFile(filepath.Join(dir, "project.toml"), []byte(strings.Replace(string(data), "builder = \"buildkit\"", "builder = \"buildkit\"\npreflight = true", 1)), 0o644)
	out, stderr, code = run(t, "check", "--cluster", "--if-configured", "-f", filepath.Join(dir, "project.toml"))
	if code == 0 || !strings.Contains(out+stderr, "FAIL  platforms: tool shout is built for linux/s390x, which buildkitd cannot build") {
		t.Errorf("pre-flight of a platform the daemon cannot build: exit %d\n%s%s", code, out, stderr)
	}
	os.WriteFile(filepath.Join(dir, "project.toml"), []byte(toml), 0o644)
	creds := env["CLUSTER_PUSH_USER"] + ":" + strings.TrimSpace(string(password))
	digests := func(out *buildjson.Output) map[string]string {
		t.Helper()
		got := map[string]string{}
		for name, digest := range servedDigests(t, out, creds) {
			got[path.Base(name)] = digest
		}
		return got
	}
	start := time.Now()
	first, log := skaffoldBuildLog(t, sk, dir, t.TempDir())
	t.Logf("cold build of 2 tools: %.1fs", time.Since(start).Seconds())
	before := digests(first)
	if len(before) != 2 || !strings.Contains(log, "buildkit: pushed "+push) || !strings.Contains(log, "the daemon is out of reach") {
		t.Fatalf("builds %v; log:\n%s", before, log)
	}

	os.WriteFile(filepath.Join(dir, "tools", "count", "run.sh"), []byte("#!/bin/sh\necho counted \"$#\"\n"), 0o644)
	start = time.Now()
	second, log := skaffoldBuildLog(t, sk, dir, t.TempDir())
	t.Logf("one tool's code changed: %.1fs", time.Since(start).Seconds())
	after := digests(second)
	if after["shout"] != before["shout"] || after["count"] == before["count"] {
		t.Errorf("after a change to count's code: shout %s → %s, count %s → %s; want shout the same, count new\n%s", before["shout"], after["shout"], before["count"], after["count"], log)
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

// applyBuildKitd applies docs/cluster.md's buildkitd manifests as written
// in namespace ns, but for the image (the cluster mirror's) and plain HTTP
// to the registries named, with the state claim bound to a volume of the
// test's own (this cluster has no provisioner), and waits for its pod.
func applyBuildKitd(t *testing.T, env map[string]string, ns string, kubectl func(string, ...string) string, registries ...string) {
	t.Helper()
	applyBuildKitdState(t, env, ns, kubectl, t.TempDir(), registries...)
}

// applyBuildKitdState is applyBuildKitd with the state volume in state.
func applyBuildKitdState(t *testing.T, env map[string]string, ns string, kubectl func(string, ...string) string, state string, registries ...string) {
	t.Helper()
	pv := ns + "-state"
	kubectl(fmt.Sprintf("apiVersion: v1\nkind: PersistentVolume\nmetadata: {name: %s}\nspec:\n  capacity: {storage: 50Gi}\n  accessModes: [ReadWriteOnce]\n  persistentVolumeReclaimPolicy: Delete\n  claimRef: {namespace: %s, name: state-buildkitd-0}\n  hostPath: {path: %s}\n", pv, ns, state), "apply", "-f", "-")
	t.Cleanup(func() {
		c := exec.Command("kubectl", "delete", "pv", pv, "--wait=false")
		c.Env = append(os.Environ(), "KUBECONFIG="+env["KUBECONFIG"])
		c.Run()
	})
	var http string
	for _, r := range registries {
		http += fmt.Sprintf("    [registry.%q]\n      http = true\n", r)
	}
	manifests := testenv.READMEBlockStarting(t, "# buildkitd for [build.cluster]").Text
	for old, new := range map[string]string{
		"image: docker.io/moby/buildkit:v0.30.0":                           "image: " + env["CLUSTER_BUILDKIT_IMAGE"],
		"    # [registry.\"harbor.internal:5000\"]\n    #   http = true\n": http,
	} {
		if !strings.Contains(manifests, old) {
			t.Fatalf("docs/cluster.md's manifests no longer hold %q", old)
		}
		manifests = strings.Replace(manifests, old, new, 1)
	}
	kubectl(manifests, "apply", "-n", ns, "-f", "-")
	waitBuildKitd(t, env, ns)
}

// waitBuildKitd waits for the namespace's buildkitd pod to run.
func waitBuildKitd(t *testing.T, env map[string]string, ns string) {
	t.Helper()
	phase := ""
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		c := exec.Command("kubectl", "-n", ns, "get", "pod", "buildkitd-0", "-o", "jsonpath={.status.phase}")
		c.Env = append(os.Environ(), "KUBECONFIG="+env["KUBECONFIG"])
		o, _ := c.Output()
		if phase = string(o); phase == "Running" {
			return
		}
	}
	t.Fatalf("buildkitd-0 in %s is not running after 2 minutes (%q)", ns, phase)
}

// TestClusterBuildKitFaults runs `task build` with [build.cluster] builder
// = "buildkit" while something breaks: the login of this machine is wrong,
// the buildkitd pod is deleted mid-build, the API server restarts
// mid-build, the daemon's state volume is full, the push registry answers
// with HTTP 500. Each time task build fails with a line naming the tool and the
// cause, build.json and the CWL file are unchanged and no pin is written;
// once the fault is cleared the next run succeeds.
func TestClusterBuildKitFaults(t *testing.T) {
	env := clusterEnv(t)
	ns, kubectl := clusterNamespace(t, env, "buildkit-faults")
	bridge, _, _ := strings.Cut(env["CLUSTER_PUSH_REGISTRY"], ":")
	reg := startFaultyRegistry(t, bridge, env["CLUSTER_PUSH_REGISTRY"])
	mirror := env["CLUSTER_MIRROR"]
	// The state volume is a 160 MB file system of its own, so that a big
	// context fills it.
	state := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=160m", "cwlbuild-test-state", state).CombinedOutput(); err != nil {
		t.Fatalf("mount a tmpfs for the state volume: %v\n%s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", state).Run() })
	applyBuildKitdState(t, env, ns, kubectl, state, mirror, reg.Host)

	tools := buildAgent(t)
	chainTools(t, tools)
	dir := t.TempDir()
	docker := filepath.Join(dir, ".docker")
	cmdEnv := append(os.Environ(), "KUBECONFIG="+env["KUBECONFIG"], "PATH="+tools+string(os.PathListSeparator)+os.Getenv("PATH"),
		"HOME="+t.TempDir(), "SKAFFOLD_UPDATE_CHECK=false", "SKAFFOLD_INTERACTIVE=false", "DOCKER_CONFIG="+docker)
	password, err := os.ReadFile(env["CLUSTER_PUSH_PASSWORD_FILE"])
	if err != nil {
		t.Fatal(err)
	}
	login := func(pw string) {
		t.Helper()
		c := exec.Command(filepath.Join(tools, "cwlbuild"), "auth", "--registry", reg.Host, "-u", env["CLUSTER_PUSH_USER"], "--password-stdin", "--output", filepath.Join(docker, "config.json"))
		c.Stdin = strings.NewReader(pw)
		if o, err := c.CombinedOutput(); err != nil {
			t.Fatalf("cwlbuild auth: %v\n%s", err, o)
		}
	}
	login(string(password))
	os.WriteFile(filepath.Join(dir, "project.toml"), []byte(`[project]
name = "faults"
version = "0.1.0"

[build]
engine = "cluster"

[build.cluster]
builder = "buildkit"
namespace = "`+ns+`"
registry = "`+reg.Host+`/`+ns+`"

[build.kaniko]
insecureRegistries = ["`+reg.Host+`", "`+mirror+`"]

[release]
sbom = "none"

[tools.slow]
context = "slow"
path = "app.cwl#slow"

[tools.quick]
context = "quick"
path = "app.cwl#quick"
`), 0o644)
	edit := writeFaultTools(dir, mirror)
	edit()
	if o, err := runIn(dir, cmdEnv, filepath.Join(tools, "cwlbuild"), "init"); err != nil {
		t.Fatalf("cwlbuild init: %v\n%s", err, o)
	}
	build := func(during func()) (string, error) {
		t.Helper()
		cmd := exec.Command(filepath.Join(tools, "task"), "build")
		cmd.Dir, cmd.Env = dir, cmdEnv
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		if during != nil {
			go func() { defer close(done); during() }()
		} else {
			close(done)
		}
		err := cmd.Wait()
		<-done
		return out.String(), err
	}
	if out, err := build(nil); err != nil {
		t.Fatalf("the first build: %v\n%s", err, out)
	}

	for _, tc := range []struct {
		name         string
		setup, clear func()
		during       func()
		want         string
	}{
		{
			name:  "wrong-password",
			setup: func() { login("not-the-password") },
			clear: func() { login(string(password)) },
			want:  `building tool (slow|quick) \(\S+\) failed: buildkitd at kube-pod://buildkitd-0\?namespace=` + ns + `: .*401 Unauthorized`,
		},
		{
			name: "pod-deleted",
			during: func() {
				time.Sleep(6 * time.Second) // slow's RUN sleeps 15 s
				kubectl("", "-n", ns, "delete", "pod", "buildkitd-0", "--grace-period=0", "--force", "--wait=false")
			},
			clear: func() { waitBuildKitd(t, env, ns) },
			want:  `building tool slow \(\S+\) failed: the connection to buildkitd at kube-pod://buildkitd-0\?namespace=` + ns + ` was lost`,
		},
		{
			name: "api-server-restart",
			during: func() {
				time.Sleep(6 * time.Second)
				restartAPIServer(t)
			},
			clear: func() { waitBuildKitd(t, env, ns) },
			want:  `building tool slow \(\S+\) failed: the connection to buildkitd at kube-pod://buildkitd-0\?namespace=` + ns + ` was lost`,
		},
		{
			name: "volume-full",
			setup: func() {
				// 200 MB the daemon must store, in a volume of 160.
				big, _ := os.Create(filepath.Join(dir, "slow", "big.bin"))
				io.CopyN(big, rand.Reader, 200<<20)
				big.Close()
				df := filepath.Join(dir, "slow", "Dockerfile")
				data, _ := os.ReadFile(df)
				os.WriteFile(df, append(data, "COPY big.bin /\n"...), 0o644)
			},
			clear: func() {
				os.Remove(filepath.Join(dir, "slow", "big.bin"))
				df := filepath.Join(dir, "slow", "Dockerfile")
				data, _ := os.ReadFile(df)
				os.WriteFile(df, bytes.TrimSuffix(data, []byte("COPY big.bin /\n")), 0o644)
				// What its operator does: the daemon stopped, its state
				// emptied (a bigger volume would do), the daemon back.
				kubectl("", "-n", ns, "scale", "statefulset", "buildkitd", "--replicas=0")
				kubectl("", "-n", ns, "wait", "--for=delete", "pod/buildkitd-0", "--timeout=120s")
				entries, _ := os.ReadDir(state)
				for _, e := range entries {
					os.RemoveAll(filepath.Join(state, e.Name()))
				}
				kubectl("", "-n", ns, "scale", "statefulset", "buildkitd", "--replicas=1")
				waitBuildKitd(t, env, ns)
			},
			want: `building tool (slow|quick) \(\S+\) failed: buildkitd at kube-pod://\S+ has no space left for its state: free some .*no space left on device`,
		},
		{
			name:  "registry-500",
			setup: func() { reg.mode.Store(registry500) },
			clear: func() { reg.mode.Store(registryUp) },
			want:  `building tool (slow|quick) \(\S+\) failed: buildkitd at \S+: .*500 Internal Server Error`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			edit()
			if tc.setup != nil {
				tc.setup()
			}
			buildJSON, _ := os.ReadFile(filepath.Join(dir, "build.json"))
			cwl, _ := os.ReadFile(filepath.Join(dir, "app.cwl"))
			out, err := build(tc.during)
			if err == nil {
				t.Fatalf("task build succeeded:\n%s", out)
			}
			if !regexp.MustCompile(tc.want).MatchString(out) || !strings.Contains(out, "cwlbuild: the build failed; nothing was pinned") {
				t.Errorf("no line matches %s, or no word that nothing was pinned:\n%s", tc.want, out)
			}
			if left, _ := filepath.Glob(filepath.Join(dir, "build.json.*")); len(left) > 0 {
				t.Errorf("left behind: %v", left)
			}
			if now, _ := os.ReadFile(filepath.Join(dir, "build.json")); !bytes.Equal(now, buildJSON) {
				t.Error("build.json changed")
			}
			if now, _ := os.ReadFile(filepath.Join(dir, "app.cwl")); !bytes.Equal(now, cwl) {
				t.Error("the CWL file changed")
			}
			if tc.clear != nil {
				tc.clear()
			}
			if out, err := build(nil); err != nil {
				t.Fatalf("the build after the fault was cleared: %v\n%s", err, out)
			}
		})
	}
}
