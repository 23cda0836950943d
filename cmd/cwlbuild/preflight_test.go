package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/eoap/cwlbuild/internal/testenv"
)

// preflightCWL is one tool, enough for `cwlbuild check` to pass.
const preflightCWL = `cwlVersion: v1.2
$graph:
- class: CommandLineTool
  id: a
  requirements: {DockerRequirement: {dockerPull: "a"}}
  baseCommand: ["true"]
  inputs: []
  outputs: []
`

// TestClusterPreflight runs `cwlbuild check --cluster` in the real cluster
// against a package that is right, then against one wrong thing at a time:
// each is one FAIL line naming the thing and the cause, exit 1, within a
// bounded time, and nothing of the pre-flight is left in the namespace.
// --if-configured runs it only when [build.cluster] preflight = true and
// the profile builds in the cluster.
func TestClusterPreflight(t *testing.T) {
	env := clusterEnv(t)
	ns, kubectl := clusterNamespace(t, env, "cwlbuild-preflight")
	kubeconfig := env["KUBECONFIG"]
	// The build's account, and a user whose Role lacks what Skaffold
	// needs to stream the context and read the log.
	kubectl(`apiVersion: v1
kind: ServiceAccount
metadata: {name: limited, namespace: `+ns+`}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: pods-only, namespace: `+ns+`}
rules:
- {apiGroups: [""], resources: [pods], verbs: [create, get, list, watch, delete]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: limited, namespace: `+ns+`}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: pods-only}
subjects: [{kind: ServiceAccount, name: limited, namespace: `+ns+`}]
`, "apply", "-f", "-")

	bin := buildAgent(t)
	cwlbuild := testenv.BuildBinary(t, "github.com/eoap/cwlbuild/cmd/cwlbuild")
	cmdEnv := append(os.Environ(), "KUBECONFIG="+kubeconfig, "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	dir := t.TempDir()

	pushSecrets(t, env, cwlbuild, env["CLUSTER_PUSH_REGISTRY"], ns, kubectl)
	token := strings.TrimSpace(kubectl("", "-n", ns, "create", "token", "limited"))
	server := strings.TrimSpace(kubectl("", "config", "view", "--minify", "-o", "jsonpath={.clusters[0].cluster.server}"))
	limited := filepath.Join(dir, "limited.kubeconfig")
	os.WriteFile(limited, []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: `+server+`, insecure-skip-tls-verify: true}}]
users: [{name: limited, user: {token: `+token+`}}]
contexts: [{name: c, context: {cluster: c, user: limited, namespace: `+ns+`}}]
current-context: c
`), 0o600)

	os.WriteFile(filepath.Join(dir, "app.cwl"), []byte(preflightCWL), 0o644)
	os.MkdirAll(filepath.Join(dir, "a"), 0o755)
	mirror := env["CLUSTER_MIRROR"]
	// project writes project.toml with the cluster's settings, each key of
	// change replacing the line that starts with it (or added to its table).
	project := func(t *testing.T, change map[string]string, extra string) {
		t.Helper()
		lines := []string{
			"[project]", `name = "preflight"`, `version = "0.1.0"`, "",
			"[build]", `engine = "cluster"`, "",
			"[build.cluster]", `namespace = "` + ns + `"`, `serviceAccount = "kaniko-sa"`,
			`registry = "` + env["CLUSTER_PUSH_REGISTRY"] + `/` + ns + `"`, `secret = "push"`, "",
			"[build.kaniko]", `image = "` + env["CLUSTER_KANIKO_IMAGE"] + `"`, `initImage = "` + env["CLUSTER_INIT_IMAGE"] + `"`, "",
		}
		for i, l := range lines {
			k, _, _ := strings.Cut(l, " = ")
			if v, ok := change[k]; ok {
				lines[i] = k + " = " + v
			}
		}
		text := strings.Join(lines, "\n") + extra + "\n[tools.a]\ncontext = \"a\"\npath = \"app.cwl#a\"\n"
		if err := os.WriteFile(filepath.Join(dir, "project.toml"), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dockerfile := func(from string) {
		os.WriteFile(filepath.Join(dir, "a", "Dockerfile"), []byte("FROM "+from+"\nRUN true\n"), 0o644)
	}
	run := func(t *testing.T, kube string, args ...string) (string, int, time.Duration) {
		t.Helper()
		c := exec.Command(cwlbuild, append([]string{"check"}, args...)...)
		c.Dir = dir
		c.Env = append(cmdEnv, "KUBECONFIG="+kube)
		start := time.Now()
		out, err := c.CombinedOutput()
		return string(out), exitCode(err), time.Since(start)
	}

	t.Run("ok", func(t *testing.T) {
		project(t, nil, "")
		dockerfile(mirror + "/library/busybox:1.36")
		out, code, took := run(t, kubeconfig, "--cluster")
		t.Logf("%s(%s)", out, took)
		if code != 0 {
			t.Fatalf("exit %d", code)
		}
		for _, want := range []string{
			`(?m)^ok +Skaffold's RBAC: `,
			`(?m)^ok +push secret: "push" exists`,
			`(?m)^ok +init image: ` + regexp.QuoteMeta(env["CLUSTER_INIT_IMAGE"]) + ` pulls`,
			`(?m)^ok +executor image: pulled, and /kaniko/executor version runs`,
			`(?m)^ok +base image of a: \S+busybox:1.36 resolves \(sha256:`,
			`(?m)^ok +push for a to \S+/` + ns + `/a: the secret's login pushes \(test blob deleted\)`,
			`(?m)^ok +cache repository \S+/` + ns + `/cache: the secret's login pushes`,
			`(?m)^cluster pre-flight: ok$`,
		} {
			if !regexp.MustCompile(want).MatchString(out) {
				t.Errorf("output does not match %s", want)
			}
		}
		if strings.Contains(out, "FAIL") {
			t.Error("a check failed")
		}
	})

	for _, tc := range []struct {
		name, from, extra string
		change            map[string]string
		kube              string
		want              string
	}{
		{name: "missing-secret", change: map[string]string{"secret": `"nosuch"`},
			want: `(?s)FAIL +push secret: "nosuch" does not exist in namespace "` + ns + `".*FAIL +push for a to \S+: no login \(the secret has none for \S+\): may not push: HTTP 401`},
		{name: "wrong-password", change: map[string]string{"secret": `"wrong"`},
			want: `FAIL +push for a to \S+/` + ns + `/a: the secret's login: may not push: HTTP 401: the login was refused`},
		{name: "missing-executor", change: map[string]string{"image": `"` + mirror + `/cwlbuild/no-such-executor:1"`},
			want: `FAIL +executor image: \S+/cwlbuild/no-such-executor:1 does not pull: (ErrImagePull|ImagePullBackOff)`},
		{name: "missing-init", change: map[string]string{"initImage": `"` + mirror + `/cwlbuild/no-such-init:1"`},
			want: `FAIL +init image: \S+/cwlbuild/no-such-init:1 does not pull: (ErrImagePull|ImagePullBackOff)`},
		{name: "missing-base", from: mirror + "/cwlbuild/no-such-base:1",
			want: `FAIL +base image of a: \S+/cwlbuild/no-such-base:1 does not resolve: .*HTTP 404`},
		// Nothing listens on that port: the cache cannot be written.
		{name: "cache-unwritable", extra: "\n[build.kaniko.cache]\nrepo = \"" + strings.Split(mirror, ":")[0] + ":5999/cache\"\n",
			want: `FAIL +cache repository \S+:5999/cache: .*connection refused`},
		{name: "missing-account", change: map[string]string{"serviceAccount": `"nobody"`},
			want: `FAIL +service account: "nobody" does not exist in namespace "` + ns + `"`},
		{name: "rbac", kube: limited,
			want: `FAIL +Skaffold's RBAC: the kubeconfig user may not create pods/exec, get pods/log in namespace "` + ns + `".*\nthe probe pod was not started`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			project(t, tc.change, tc.extra)
			from := tc.from
			if from == "" {
				from = mirror + "/library/busybox:1.36"
			}
			dockerfile(from)
			kube := kubeconfig
			if tc.kube != "" {
				kube = tc.kube
			}
			out, code, took := run(t, kube, "--cluster")
			t.Logf("%s(%s)", out, took)
			if code != 1 {
				t.Errorf("exit %d, want 1", code)
			}
			if !regexp.MustCompile(tc.want).MatchString(out) {
				t.Errorf("output does not match %s", tc.want)
			}
			if took > 90*time.Second {
				t.Errorf("took %s: a failed pre-flight must end within its 2-minute bound and well before", took)
			}
		})
	}
	if left := kubectl("", "-n", ns, "get", "pods", "-o", "name"); strings.TrimSpace(left) != "" {
		t.Errorf("the pre-flight left pods: %s", left)
	}

	t.Run("if-configured", func(t *testing.T) {
		dockerfile(mirror + "/library/busybox:1.36")
		project(t, map[string]string{"secret": `"wrong"`}, "")
		if out, code, _ := run(t, kubeconfig, "--cluster", "--if-configured"); code != 0 || out != "" {
			t.Errorf("without preflight = true: exit %d, %q; want nothing", code, out)
		}
		text, _ := os.ReadFile(filepath.Join(dir, "project.toml"))
		os.WriteFile(filepath.Join(dir, "project.toml"), []byte(strings.Replace(string(text), `secret = "wrong"`, "secret = \"wrong\"\npreflight = true", 1)), 0o644)
		if out, code, _ := run(t, kubeconfig, "--cluster", "--if-configured", "--profile", "local"); code != 0 || out != "" {
			t.Errorf("with preflight = true and the local profile: exit %d, %q; want nothing", code, out)
		}
		out, code, _ := run(t, kubeconfig, "--cluster", "--if-configured", "--profile", "")
		if code != 1 || !strings.Contains(out, "FAIL  push for a") || strings.Contains(out, "project.toml: ok") {
			t.Errorf("with preflight = true: exit %d, want 1, the failed push and no package check:\n%s", code, out)
		}
	})
}
