package main

import (
	"bytes"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eoap/cwlbuild/internal/testenv"
)

// faultyRegistry is a proxy in front of the cluster's push registry, on the
// bridge address the Kaniko pods reach, that can fail on command: every
// blob upload answered with HTTP 500, or every connection dropped (the
// registry down).
type faultyRegistry struct {
	Host string
	// mode: 0 passes requests, 1 answers blob uploads with 500 once one
	// has started, 2 drops every connection.
	mode    atomic.Int32
	uploads atomic.Int32
}

const (
	registryUp = iota
	registry500
	registryDown
)

func startFaultyRegistry(t *testing.T, bridge, target string) *faultyRegistry {
	t.Helper()
	l, err := net.Listen("tcp", bridge+":0")
	if err != nil {
		t.Fatal(err)
	}
	f := &faultyRegistry{Host: l.Addr().String()}
	proxy := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: target})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		upload := strings.Contains(r.URL.Path, "/blobs/uploads/")
		if upload {
			f.uploads.Add(1)
		}
		switch f.mode.Load() {
		case registry500:
			if upload {
				http.Error(w, "injected failure", http.StatusInternalServerError)
				return
			}
		case registryDown:
			if hj, ok := w.(http.Hijacker); ok {
				if c, _, err := hj.Hijack(); err == nil {
					c.Close()
					return
				}
			}
		}
		proxy.ServeHTTP(w, r)
	})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return f
}

// buildFaultsCWL is two tools, each built from its own context.
const buildFaultsCWL = `cwlVersion: v1.2
$graph:
- class: CommandLineTool
  id: slow
  requirements: {DockerRequirement: {dockerPull: "slow"}}
  baseCommand: [cat, /slow.txt]
  inputs: []
  outputs: []
- class: CommandLineTool
  id: quick
  requirements: {DockerRequirement: {dockerPull: "quick"}}
  baseCommand: [cat, /quick.txt]
  inputs: []
  outputs: []
`

// TestClusterBuildFaults runs `task build` in the real cluster while
// something breaks: the push secret holds the wrong password, a Kaniko pod
// is deleted mid-build, the push registry answers uploads with HTTP 500 and
// then goes down mid-push, and Skaffold's build timeout passes. Each time
// task build exits non-zero within a bounded time with a line naming the
// tool and the cause, build.json and the CWL file are unchanged, no pin is
// written and no pod is left running; once the fault is cleared the next
// run succeeds and runs no RUN instruction again for what had been built
// (Kaniko's layer cache, on by default).
func TestClusterBuildFaults(t *testing.T) {
	env := clusterEnv(t)
	ns, kubectl := clusterNamespace(t, env, "cwlbuild-buildfaults")
	kubeconfig := env["KUBECONFIG"]

	bridge, _, _ := strings.Cut(env["CLUSTER_PUSH_REGISTRY"], ":")
	reg := startFaultyRegistry(t, bridge, env["CLUSTER_PUSH_REGISTRY"])

	// The chain's programs on PATH, as `task bin` puts them.
	tools := t.TempDir()
	chainTools(t, tools)
	cmdEnv := append(os.Environ(), "KUBECONFIG="+kubeconfig, "PATH="+tools+string(os.PathListSeparator)+os.Getenv("PATH"),
		"HOME="+t.TempDir(), "SKAFFOLD_UPDATE_CHECK=false", "SKAFFOLD_INTERACTIVE=false")

	password, err := os.ReadFile(env["CLUSTER_PUSH_PASSWORD_FILE"])
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	docker := filepath.Join(dir, ".docker")
	cmdEnv = append(cmdEnv, "DOCKER_CONFIG="+docker)
	pushSecrets(t, env, filepath.Join(tools, "cwlbuild"), reg.Host, ns, kubectl)
	// Skaffold reads the pushed digests with the same login.
	c := exec.Command(filepath.Join(tools, "cwlbuild"), "auth", "--registry", reg.Host, "-u", env["CLUSTER_PUSH_USER"],
		"--password-stdin", "--output", filepath.Join(docker, "config.json"))
	c.Stdin = bytes.NewReader(password)
	if o, err := c.CombinedOutput(); err != nil {
		t.Fatalf("cwlbuild auth: %v\n%s", err, o)
	}

	mirror := env["CLUSTER_MIRROR"]
	writeProject := func(secret, extra string) {
		os.WriteFile(filepath.Join(dir, "project.toml"), []byte(`[project]
name = "faults"
version = "0.1.0"

[build]
engine = "cluster"

[build.cluster]
namespace = "`+ns+`"
serviceAccount = "kaniko-sa"
registry = "`+reg.Host+`/`+ns+`"
secret = "`+secret+`"

[build.kaniko]
image = "`+env["CLUSTER_KANIKO_IMAGE"]+`"
initImage = "`+env["CLUSTER_INIT_IMAGE"]+`"
insecureRegistries = ["`+reg.Host+`", "`+mirror+`"]
`+extra+`
[release]
sbom = "none"

[tools.slow]
context = "slow"
path = "app.cwl#slow"

[tools.quick]
context = "quick"
path = "app.cwl#quick"
`), 0o644)
	}
	edit := writeFaultTools(dir, mirror)
	writeProject("push", "")
	edit()
	if o, err := runIn(dir, cmdEnv, filepath.Join(tools, "cwlbuild"), "init"); err != nil {
		t.Fatalf("cwlbuild init: %v\n%s", err, o)
	}

	build := func(t *testing.T, during func()) (string, error, time.Duration) {
		t.Helper()
		start := time.Now()
		cmd := exec.Command(filepath.Join(tools, "task"), "build")
		cmd.Dir, cmd.Env = dir, cmdEnv
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		if during != nil {
			wg.Add(1)
			go func() { defer wg.Done(); during() }()
		}
		err := cmd.Wait()
		wg.Wait()
		return out.String(), err, time.Since(start)
	}
	// waitPod waits for the Kaniko pod building a tool to run, and returns
	// its name.
	waitPod := func(tool string) string {
		for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
			c := exec.Command("kubectl", "-n", ns, "get", "pods", "-l", "skaffold-kaniko", "-o",
				`jsonpath={range .items[?(@.status.phase=="Running")]}{.metadata.name} {.spec.containers[0].args}{"\n"}{end}`)
			c.Env = cmdEnv
			o, _ := c.Output()
			for _, line := range strings.Split(string(o), "\n") {
				if name, args, ok := strings.Cut(line, " "); ok && strings.Contains(args, "/"+ns+"/"+tool+":") {
					return name
				}
			}
		}
		return ""
	}

	out, err, took := build(t, nil)
	if err != nil {
		t.Fatalf("the first build: %v (%s)\n%s", err, took, out)
	}
	t.Logf("the first build: %s", took)

	for _, tc := range []struct {
		name   string
		setup  func()
		during func()
		clear  func()
		want   string
		after  string
	}{
		{
			name:  "wrong-password",
			setup: func() { writeProject("wrong", "") },
			clear: func() { writeProject("push", "") },
			want:  `tool (slow|quick) \(\S+\): the registry refused the push secret's login`,
		},
		{
			name: "pod-deleted",
			during: func() {
				if pod := waitPod("slow"); pod != "" {
					kubectl("", "-n", ns, "delete", "pod", pod, "--wait=false")
				}
			},
			want: `tool slow \(\S+\): the Kaniko pod ended without an error of Kaniko's: it was deleted`,
		},
		{
			name: "registry-500",
			during: func() {
				waitPod("slow")
				reg.mode.Store(registry500)
			},
			clear: func() { reg.mode.Store(registryUp) },
			// Either tool's push may be the first to meet the failure.
			want: `tool (slow|quick) \(\S+\): the registry failed \(HTTP 5xx\) while Kaniko pushed`,
		},
		{
			name: "registry-down",
			during: func() {
				waitPod("slow")
				reg.mode.Store(registryDown)
			},
			clear: func() { reg.mode.Store(registryUp) },
			want:  `tool (slow|quick) \(\S+\): the registry could not be reached from the Kaniko pod`,
		},
		{
			name:  "timeout",
			setup: func() { writeProject("push", "timeout = \"8s\"\n") },
			clear: func() { writeProject("push", "") },
			want:  `tool slow \(\S+\): Skaffold's build timeout passed`,
			// slow's RUN ended before the timeout: its layer is cached.
			after: `Using caching version of cmd: RUN sleep 15`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			edit()
			if tc.setup != nil {
				tc.setup()
			}
			buildJSON, _ := os.ReadFile(filepath.Join(dir, "build.json"))
			cwl, _ := os.ReadFile(filepath.Join(dir, "app.cwl"))
			out, err, took := build(t, tc.during)
			t.Logf("%s\n(%s)", out, took)
			if err == nil {
				t.Fatalf("task build succeeded")
			}
			if !regexp.MustCompile(tc.want).MatchString(out) || !strings.Contains(out, "cwlbuild: the build failed; nothing was pinned") {
				t.Errorf("no line matches %s, or no word that nothing was pinned", tc.want)
			}
			if logs, _ := filepath.Glob(filepath.Join(dir, "build.json.*")); len(logs) > 0 {
				t.Errorf("left behind: %v", logs)
			}
			if took > 3*time.Minute {
				t.Errorf("took %s", took)
			}
			if now, _ := os.ReadFile(filepath.Join(dir, "build.json")); !bytes.Equal(now, buildJSON) {
				t.Error("build.json changed")
			}
			if now, _ := os.ReadFile(filepath.Join(dir, "app.cwl")); !bytes.Equal(now, cwl) {
				t.Error("the CWL file changed")
			}
			if left := kubectl("", "-n", ns, "get", "pods", "-o", "name"); strings.TrimSpace(left) != "" {
				t.Errorf("pods left: %s", left)
			}
			if tc.clear != nil {
				tc.clear()
			}
			out, err, took = build(t, nil)
			if err != nil {
				t.Fatalf("the build after the fault was cleared: %v (%s)\n%s", err, took, out)
			}
			t.Logf("after the fault: %s\n%s", took, out)
			if tc.after != "" && !strings.Contains(out, tc.after) {
				t.Errorf("the build after the fault does not say %q", tc.after)
			}
		})
	}

	// The apiserver killed and restarted while the slow tool builds:
	// Skaffold's pod watch retries, and the build usually completes. After
	// a longer outage (minutes) Skaffold was seen waiting on until its
	// build timeout, so [build.kaniko] timeout is the bound: 60s here.
	// Either the build ends in time with the pins written, or it fails as
	// the others do.
	t.Run("apiserver-restart", func(t *testing.T) {
		edit()
		writeProject("push", "timeout = \"60s\"\n")
		defer writeProject("push", "")
		buildJSON, _ := os.ReadFile(filepath.Join(dir, "build.json"))
		cwl, _ := os.ReadFile(filepath.Join(dir, "app.cwl"))
		out, err, took := build(t, func() {
			if waitPod("slow") != "" {
				restartAPIServer(t)
			}
		})
		t.Logf("%s\n(%s)", out, took)
		if took > 3*time.Minute {
			t.Errorf("took %s, with a 60s build timeout", took)
		}
		nowJSON, _ := os.ReadFile(filepath.Join(dir, "build.json"))
		nowCWL, _ := os.ReadFile(filepath.Join(dir, "app.cwl"))
		if err == nil {
			if bytes.Equal(nowJSON, buildJSON) || bytes.Equal(nowCWL, cwl) || !strings.Contains(out, "2 of 2 tools pinned") {
				t.Error("the build succeeded but did not pin both tools anew")
			}
			return
		}
		if !strings.Contains(out, "cwlbuild: the build failed; nothing was pinned") || !bytes.Equal(nowJSON, buildJSON) || !bytes.Equal(nowCWL, cwl) {
			t.Error("a failed build must say so and leave build.json and the CWL as they were")
		}
		if left := kubectl("", "-n", ns, "get", "pods", "--field-selector", "status.phase=Running", "-o", "name"); strings.TrimSpace(left) != "" {
			t.Errorf("pods left running: %s", left)
		}
		if out, err, took := build(t, nil); err != nil {
			t.Fatalf("the build after the restart: %v (%s)\n%s", err, took, out)
		}
	})
}

// restartAPIServer stops the cluster's kube-apiserver and starts it again
// (scripts/cluster.sh up starts what is not running).
func restartAPIServer(t *testing.T) {
	state := os.Getenv("CWLBUILD_CLUSTER_DIR")
	if state == "" {
		state = "/var/lib/cwlbuild-cluster"
	}
	pid, err := os.ReadFile(filepath.Join(state, "run", "kube-apiserver.pid"))
	if err != nil {
		t.Error(err)
		return
	}
	// Killed, as a crash or a node's restart does: a graceful stop drains
	// its watches for up to a minute.
	exec.Command("kill", "-9", strings.TrimSpace(string(pid))).Run()
	for i := 0; i < 50 && exec.Command("kill", "-0", strings.TrimSpace(string(pid))).Run() == nil; i++ {
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(2 * time.Second)
	if o, err := exec.Command(filepath.Join(testenv.ModuleRoot(), "scripts", "cluster.sh"), "up").CombinedOutput(); err != nil {
		t.Errorf("restarting the apiserver: %v\n%s", err, o)
	}
}

// chainTools puts the chain's programs in dir, as `task bin` puts them on
// PATH: cwlbuild and cwlpatch built from this checkout, go-task and the
// pinned Skaffold.
func chainTools(t *testing.T, dir string) {
	t.Helper()
	for _, pkg := range []string{"./cmd/cwlbuild", "./cmd/cwlpatch"} {
		os.Rename(testenv.BuildBinary(t, pkg), filepath.Join(dir, filepath.Base(pkg)))
	}
	taskBin, err := exec.Command("go", "tool", "-n", "task").Output()
	if err != nil {
		testenv.Missing(t, "go-task (go tool task)", err)
	}
	os.Symlink(strings.TrimSpace(string(taskBin)), filepath.Join(dir, "task"))
	os.Symlink(testenv.Skaffold(t), filepath.Join(dir, "skaffold"))
}

func runIn(dir string, env []string, prog string, args ...string) ([]byte, error) {
	c := exec.Command(prog, args...)
	c.Dir, c.Env = dir, env
	return c.CombinedOutput()
}

// writeFaultTools writes the fault tests' two tools and their CWL in dir,
// FROM the mirror's busybox, and returns edit, which changes both tools'
// code so that both build again. slow runs its RUN again after each edit
// (the edited file comes first), long enough for a fault to strike while it
// builds; quick takes its RUN layer from the cache.
func writeFaultTools(dir, mirror string) (edit func()) {
	os.WriteFile(filepath.Join(dir, "app.cwl"), []byte(buildFaultsCWL), 0o644)
	os.MkdirAll(filepath.Join(dir, "slow"), 0o755)
	os.WriteFile(filepath.Join(dir, "slow", "Dockerfile"), []byte("FROM "+mirror+"/library/busybox:1.36\nCOPY slow.txt /\nRUN sleep 15 && echo slow > /slow.log\n"), 0o644)
	os.MkdirAll(filepath.Join(dir, "quick"), 0o755)
	os.WriteFile(filepath.Join(dir, "quick", "Dockerfile"), []byte("FROM "+mirror+"/library/busybox:1.36\nRUN echo quick > /quick.log\nCOPY quick.txt /\n"), 0o644)
	n := 0
	return func() {
		n++
		for _, tool := range []string{"slow", "quick"} {
			os.WriteFile(filepath.Join(dir, tool, tool+".txt"), []byte(tool+" "+strings.Repeat("x", n)+"\n"), 0o644)
		}
	}
}
