package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/eoap/cwlbuild/internal/testenv"
	"github.com/eoap/cwlbuild/skaffold/buildjson"
)

// clusterEnv starts (or reuses) the single-node cluster of scripts/cluster.sh
// and returns the variables of `scripts/cluster.sh env`.
func clusterEnv(t *testing.T) map[string]string {
	t.Helper()
	testenv.RealEngine(t)
	if os.Geteuid() != 0 {
		testenv.Missing(t, "the cluster (scripts/cluster.sh needs root)", nil)
	}
	script := filepath.Join(testenv.ModuleRoot(), "scripts", "cluster.sh")
	if out, err := exec.Command(script, "up").CombinedOutput(); err != nil {
		testenv.Missing(t, "the cluster", &exec.ExitError{Stderr: out})
	}
	out, err := exec.Command(script, "env").Output()
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		k, v, _ := strings.Cut(line, "=")
		env[k] = v
	}
	return env
}

// TestClusterBuild runs scripts/demo-cluster.sh (what `go tool task
// demo-cluster` runs) with Docker Hub unreachable, and checks what it claims:
// every image was built by a Kaniko pod of Skaffold's cluster builder, whose
// init container came from the mirror; the push registry refuses anonymous
// pushes, so the pods pushed with the mounted secret; build.json's digests
// are the registry's; every tool is pinned; cwltool ran the workflow. Then
// the negative control: the same config with the tools' own Dockerfiles
// fails in Skaffold's client-side ONBUILD lookup, so the derived Dockerfiles
// are what makes the build work without Docker Hub. And the fourth step:
// every test ran as a Calrissian Job whose tool pods ran the pinned digests,
// pulled from a registry that refuses anonymous pulls; water.csv from the
// cluster is byte-identical to cwltool's; the usage report parses; nothing
// of the Jobs is left in the namespace.
func TestClusterBuild(t *testing.T) {
	env := clusterEnv(t)
	sk := testenv.Skaffold(t)
	testenv.LookPath(t, "skopeo")
	testenv.LookPath(t, "cwltool")
	demo := t.TempDir()
	since := time.Now().UTC().Add(-time.Second).Format(time.RFC3339)
	cmd := exec.Command(filepath.Join(testenv.ModuleRoot(), "scripts", "demo-cluster.sh"))
	// A dead proxy for everything but the cluster's own addresses: no
	// registry on the internet (Docker Hub, gcr.io) can be reached.
	cmd.Env = append(os.Environ(), "DEMO_DIR="+demo, "HTTPS_PROXY=http://127.0.0.1:9", "HTTP_PROXY=http://127.0.0.1:9",
		"NO_PROXY=127.0.0.1,localhost,10.244.0.1", "GOPROXY=off", "CWLBUILD_REVISION=cafe0123")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("demo-cluster.sh: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "1 tests passed") {
		t.Errorf("the pinned workflow did not run:\n%s", out)
	}

	kubectl := func(args ...string) string {
		t.Helper()
		c := exec.Command("kubectl", args...)
		c.Env = append(os.Environ(), "KUBECONFIG="+env["KUBECONFIG"])
		o, err := c.Output()
		if err != nil {
			t.Fatalf("kubectl %s: %v", strings.Join(args, " "), err)
		}
		return string(o)
	}
	var events struct {
		Items []struct {
			Metadata struct {
				CreationTimestamp string `json:"creationTimestamp"`
			} `json:"metadata"`
			InvolvedObject struct{ Name string } `json:"involvedObject"`
			Reason         string                `json:"reason"`
			Message        string                `json:"message"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(kubectl("-n", "eoap-sample", "get", "events", "-o", "json")), &events); err != nil {
		t.Fatal(err)
	}
	started, initFromMirror := map[string]bool{}, map[string]bool{}
	for _, e := range events.Items {
		if e.Metadata.CreationTimestamp < since || !strings.HasPrefix(e.InvolvedObject.Name, "kaniko-") {
			continue
		}
		if e.Reason == "Started" && e.Message == "Started container kaniko" {
			started[e.InvolvedObject.Name] = true
		}
		if e.Reason == "Pulled" && strings.Contains(e.Message, `"`+env["CLUSTER_INIT_IMAGE"]+`"`) {
			initFromMirror[e.InvolvedObject.Name] = true
		}
	}
	if len(started) != 3 || len(initFromMirror) != 3 {
		t.Errorf("%d Kaniko pods ran the executor and %d took their init image from the mirror; want 3 and 3", len(started), len(initFromMirror))
	}

	// The push registry refuses an anonymous push.
	push := env["CLUSTER_PUSH_REGISTRY"]
	anon := exec.Command("skopeo", "copy", "--dest-tls-verify=false", "--dest-no-creds",
		"docker://"+env["CLUSTER_INIT_IMAGE"], "docker://"+push+"/eoap-sample/anonymous:1")
	anon.Env = append(os.Environ(), "REGISTRY_AUTH_FILE=/nonexistent")
	if o, err := anon.CombinedOutput(); err == nil || !regexp.MustCompile(`(?i)unauthorized|401|authentication required`).Match(o) {
		t.Errorf("an anonymous push was not refused: %v\n%s", err, o)
	}

	// build.json's digests are the registry's, and the CWL pins them.
	password, err := os.ReadFile(env["CLUSTER_PUSH_PASSWORD_FILE"])
	if err != nil {
		t.Fatal(err)
	}
	creds := env["CLUSTER_PUSH_USER"] + ":" + strings.TrimSpace(string(password))
	builds, err := buildjson.ReadFile(filepath.Join(demo, "build.json"), nil)
	if err != nil {
		t.Fatal(err)
	}
	cwl, _ := os.ReadFile(filepath.Join(demo, "cwl-workflow", "app-water-bodies.cwl"))
	if len(builds.Builds) != 3 {
		t.Fatalf("build.json has %d builds, want 3", len(builds.Builds))
	}
	for _, b := range builds.Builds {
		tagged := b.Tag[:strings.Index(b.Tag, "@")]
		if tagged != b.ImageName+":0.1.0" {
			t.Errorf("%s: tagged %s, want [project] version 0.1.0", b.ImageName, tagged)
		}
		o, err := exec.Command("skopeo", "inspect", "--tls-verify=false", "--creds", creds, "--format", "{{.Digest}}", "docker://"+tagged).Output()
		if err != nil {
			t.Fatalf("skopeo inspect %s: %v", b.ImageName, err)
		}
		digest := strings.TrimSpace(string(o))
		if !strings.HasSuffix(b.Tag, "@"+digest) {
			t.Errorf("%s: build.json says %s, the registry %s", b.ImageName, b.Tag, digest)
		}
		if !strings.Contains(string(cwl), "dockerPull: "+tagged+"@"+digest) {
			t.Errorf("%s@%s is not pinned in the workflow", b.ImageName, digest)
		}
		tool := b.ImageName[strings.LastIndex(b.ImageName, "/")+1:]
		labels := testenv.ImageLabels(t, b.ImageName+"@"+digest, creds)
		checkLabels(t, labels, tool, "0.1.0")
		if labels["org.opencontainers.image.revision"] != "cafe0123" {
			t.Errorf("%s: revision label %q, want CWLBUILD_REVISION's cafe0123", tool, labels["org.opencontainers.image.revision"])
		}
	}

	checkCalrissianRuns(t, string(out), demo, builds, kubectl, since)
	// The workflow test's expectation (water.csv's checksum), one byte off:
	// the Calrissian run fails naming the output and both values.
	project := filepath.Join(demo, "project.toml")
	data, _ := os.ReadFile(project)
	wrong := strings.Replace(string(data), "sha1$bf6cb4825ded6b39342ea0480f04f8b92f39bcaf", "sha1$0f6cb4825ded6b39342ea0480f04f8b92f39bcaf", 1)
	if wrong == string(data) {
		t.Fatal("the demo's project.toml expects no checksum")
	}
	os.WriteFile(project, []byte(wrong), 0o644)
	ct := exec.Command(filepath.Join(testenv.ModuleRoot(), ".bin", "cwlbuild"), "test", "--engine", "cluster", "--workflow", "0")
	ct.Dir = demo
	ct.Env = append(os.Environ(), "KUBECONFIG="+env["KUBECONFIG"], "DOCKER_CONFIG="+filepath.Join(demo, ".docker"),
		"PATH="+filepath.Join(testenv.ModuleRoot(), ".bin")+string(os.PathListSeparator)+os.Getenv("PATH"))
	o, err := ct.CombinedOutput()
	if want := `output water.checksum: differs: expected "sha1$0f6cb4825ded6b39342ea0480f04f8b92f39bcaf", got "sha1$bf6cb4825ded6b39342ea0480f04f8b92f39bcaf"`; err == nil || !strings.Contains(string(o), want) {
		t.Errorf("a wrong expected checksum in the cluster: %v, want a failure saying %q\n%s", err, want, o)
	}
	os.WriteFile(project, data, 0o644)
	checkPullSecretWarning(t, env, demo, kubectl)
	for _, b := range builds.Builds {
		// Tool pods pulled with the service account's pull secret: the
		// registry refuses an anonymous pull.
		// (skopeo takes a digest or a tag, not both)
		byDigest := b.ImageName + b.Tag[strings.LastIndex(b.Tag, "@"):]
		anon := exec.Command("skopeo", "inspect", "--tls-verify=false", "--no-creds", "docker://"+byDigest)
		anon.Env = append(os.Environ(), "REGISTRY_AUTH_FILE=/nonexistent")
		if o, err := anon.CombinedOutput(); err == nil || !regexp.MustCompile(`(?i)unauthorized|401|authentication required`).Match(o) {
			t.Errorf("an anonymous pull of %s was not refused: %v\n%s", byDigest, err, o)
		}
	}

	// Negative control: the tools' own Dockerfiles name Docker Hub, which
	// Skaffold cannot reach to look for ONBUILD triggers.
	config, _ := os.ReadFile(filepath.Join(demo, "skaffold-auto.yaml"))
	own := regexp.MustCompile(`dockerfile: \.cwlbuild/\S+\.Dockerfile`).ReplaceAll(config, []byte("dockerfile: Dockerfile"))
	if err := os.WriteFile(filepath.Join(demo, "own-dockerfiles.yaml"), own, 0o644); err != nil {
		t.Fatal(err)
	}
	sc := exec.Command(sk, "build", "-f", "own-dockerfiles.yaml", "--cache-artifacts=false", "-q")
	sc.Dir = demo
	sc.Env = append(cmd.Env, "KUBECONFIG="+env["KUBECONFIG"], "DOCKER_CONFIG="+filepath.Join(demo, ".docker"), "SKAFFOLD_UPDATE_CHECK=false")
	if o, err := sc.CombinedOutput(); err == nil || !strings.Contains(string(o), "parsing ONBUILD instructions") {
		t.Errorf("with the tools' own Dockerfiles Skaffold did not fail in its ONBUILD lookup: %v\n%s", err, o)
	}
}

// checkCalrissianRuns checks the demo's `cwlbuild test --engine cluster`:
// three tests, each a Job; every pinned image ran in a tool pod (the
// progress lines come from the pods' specs, the Pulled or already-present
// events from the kubelet); results identical to cwltool's; the usage
// report parses; no Job, pod or run label left.
func checkCalrissianRuns(t *testing.T, out, demo string, builds *buildjson.Output, kubectl func(...string) string, since string) {
	t.Helper()
	// project.toml's three tests and its suite's two cases (one that
	// must fail), each a Calrissian Job.
	if !strings.Contains(out, "5 tests passed") || !regexp.MustCompile(`ok\s+otsu-water-mask\s+suites\.0\.otsu-water-mask`).MatchString(out) ||
		!regexp.MustCompile(`ok\s+crop-unknown-band\s+suites\.0\.crop-unknown-band`).MatchString(out) {
		t.Errorf("the Calrissian runs did not all pass:\n%s", out)
	}
	if n := len(regexp.MustCompile(`(?m)^    job eoap-sample/cwlbuild-\S+ created`).FindAllString(out, -1)); n != 5 {
		t.Errorf("%d Jobs created, want 5 (one per test)", n)
	}
	events := kubectl("-n", "eoap-sample", "get", "events", "-o", "jsonpath={range .items[*]}{.metadata.creationTimestamp} {.involvedObject.name} {.message}{\"\\n\"}{end}")
	for _, b := range builds.Builds {
		if !strings.Contains(out, ": started (image "+b.Tag+")") {
			t.Errorf("no tool pod ran %s", b.Tag)
		}
		ran := false
		for _, line := range strings.Split(events, "\n") {
			f := strings.Fields(line)
			ran = ran || len(f) > 2 && f[0] >= since && strings.Contains(f[1], "-pod-") && strings.Contains(line, `"`+b.Tag+`"`)
		}
		if !ran {
			t.Errorf("no tool pod's event names %s", b.Tag)
		}
	}
	if !strings.Contains(out, "byte-identical") {
		t.Errorf("water.csv from the cluster and from cwltool were not compared")
	}
	cluster, _ := os.ReadFile(filepath.Join(demo, "water.calrissian.csv"))
	local, _ := os.ReadFile(filepath.Join(demo, "runs", "water-bodies", "results", "water.csv"))
	if len(cluster) == 0 || string(cluster) != string(local) {
		t.Errorf("water.csv: Calrissian's\n%s\ncwltool's\n%s", cluster, local)
	}
	var usage map[string]any
	data, err := os.ReadFile(filepath.Join(demo, "runs", "water-bodies", "usage.json"))
	if err != nil || json.Unmarshal(data, &usage) != nil || usage["children"] == nil {
		t.Errorf("the usage report did not come back or does not parse: %v\n%s", err, data)
	}
	if left := kubectl("-n", "eoap-sample", "get", "jobs,pods,pvc", "-l", "cwlbuild.eoap.dev/run", "-o", "name"); strings.TrimSpace(left) != "" {
		t.Errorf("left in the namespace after the tests passed:\n%s", left)
	}
}

// checkPullSecretWarning: `cwlbuild check` on the pinned demo says nothing
// of pull secrets while the tests' account holds the push login, and warns,
// naming the registry, when the tests run as an account without it.
func checkPullSecretWarning(t *testing.T, env map[string]string, demo string, kubectl func(...string) string) {
	t.Helper()
	apply := exec.Command("kubectl", "apply", "-f", "-")
	apply.Env = append(os.Environ(), "KUBECONFIG="+env["KUBECONFIG"])
	apply.Stdin = strings.NewReader("apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: no-pull-secret, namespace: eoap-sample}\n")
	if o, err := apply.CombinedOutput(); err != nil {
		t.Fatalf("kubectl apply: %v\n%s", err, o)
	}
	project, _ := os.ReadFile(filepath.Join(demo, "project.toml"))
	bare := strings.Replace(string(project), `serviceAccount = "calrissian-sa"`, `serviceAccount = "no-pull-secret"`, 1)
	if bare == string(project) {
		t.Fatal("the demo's project.toml no longer sets [build.calrissian] serviceAccount")
	}
	os.WriteFile(filepath.Join(demo, "bare.toml"), []byte(bare), 0o644)
	bin := filepath.Join(testenv.ModuleRoot(), ".bin")
	for file, want := range map[string]bool{"project.toml": false, "bare.toml": true} {
		c := exec.Command(filepath.Join(bin, "cwlbuild"), "check", "-f", file)
		c.Dir = demo
		c.Env = append(os.Environ(), "KUBECONFIG="+env["KUBECONFIG"], "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
		o, _ := c.CombinedOutput()
		warned := regexp.MustCompile(`runs as service account eoap-sample/no-pull-secret, whose imagePullSecrets \(none\) hold no login for ` + regexp.QuoteMeta(env["CLUSTER_PUSH_REGISTRY"])).Match(o)
		if warned != want || !want && strings.Contains(string(o), "imagePullSecrets") {
			t.Errorf("cwlbuild check -f %s: pull secret warning %v, want %v:\n%s", file, warned, want, o)
		}
	}
}

// clusterNamespace makes a namespace of the test's own (PREFIX-xxxxx) with a
// service account kaniko-sa, deleted when the test ends: two runs of the
// suite on one cluster never touch each other. kubectl fails the test on
// error.
func clusterNamespace(t *testing.T, env map[string]string, prefix string) (string, func(stdin string, args ...string) string) {
	t.Helper()
	ns := prefix + "-" + randomSuffix()
	kubectl := func(stdin string, args ...string) string {
		t.Helper()
		c := exec.Command("kubectl", args...)
		c.Env = append(os.Environ(), "KUBECONFIG="+env["KUBECONFIG"])
		c.Stdin = strings.NewReader(stdin)
		o, err := c.CombinedOutput()
		if err != nil {
			t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, o)
		}
		return string(o)
	}
	t.Cleanup(func() {
		c := exec.Command("kubectl", "delete", "namespace", ns, "--wait=false")
		c.Env = append(os.Environ(), "KUBECONFIG="+env["KUBECONFIG"])
		c.Run()
	})
	kubectl("apiVersion: v1\nkind: Namespace\nmetadata: {name: "+ns+"}\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: kaniko-sa, namespace: "+ns+"}\n", "apply", "-f", "-")
	return ns, kubectl
}

// pushSecrets makes two push secrets for registry in ns, through `cwlbuild
// auth --secret`: "push" with the cluster's login, "wrong" with its user
// and another password.
func pushSecrets(t *testing.T, env map[string]string, cwlbuild, registry, ns string, kubectl func(string, ...string) string) {
	t.Helper()
	password, err := os.ReadFile(env["CLUSTER_PUSH_PASSWORD_FILE"])
	if err != nil {
		t.Fatal(err)
	}
	for name, pw := range map[string]string{"push": string(password), "wrong": "not-the-password"} {
		c := exec.Command(cwlbuild, "auth", "--registry", registry, "-u", env["CLUSTER_PUSH_USER"], "--password-stdin", "--secret", name, "-n", ns)
		c.Stdin = strings.NewReader(pw)
		secret, err := c.Output()
		if err != nil {
			t.Fatalf("cwlbuild auth --secret %s: %v", name, err)
		}
		kubectl(string(secret), "apply", "-f", "-")
	}
}

// buildAgent builds cwlbuild-calrissian, static as the release's (the
// pre-flight runs it in the Kaniko image), into a directory for PATH.
func buildAgent(t *testing.T) string {
	t.Helper()
	bin := t.TempDir()
	build := exec.Command("go", "build", "-C", filepath.Join(testenv.ModuleRoot(), "cmd", "cwlbuild-calrissian"), "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if o, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building cwlbuild-calrissian: %v\n%s", err, o)
	}
	return bin
}
