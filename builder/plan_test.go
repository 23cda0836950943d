package builder

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestPlanDefaults: every default of the plan is set by NewPlan, typed, and
// nowhere else: push, each runtime's concurrency, the executor image, the
// ttl duration, the pin mode, absolute contexts and process references.
func TestPlanDefaults(t *testing.T) {
	local := func(runtime, extra string) string {
		return strings.Replace(base, `engine = "cluster"`, `engine = "local"`, 1) +
			"\n[build.local]\nregistry = \"127.0.0.1:5000/p\"\nruntime = \"" + runtime + "\"\n" + extra
	}
	intp := func(n int) *int { return &n }
	for _, tc := range []struct {
		name        string
		toml        string
		engine      Engine
		profile     Profile
		push        bool
		concurrency *int
		backend     string
	}{
		{"cluster", base, EngineCluster, ProfileCluster, true, nil, ""},
		{"docker keeps Skaffold's default", local("docker", ""), EngineLocal, ProfileLocal, true, nil, ""},
		{"podman builds all at once", local("podman", ""), EngineLocal, ProfileLocal, true, intp(0), "podman"},
		{"buildah as set", local("buildah", "concurrency = 3\n"), EngineLocal, ProfileLocal, true, intp(3), "buildah"},
		{"kaniko one at a time", local("kaniko", ""), EngineLocal, ProfileLocal, true, intp(1), "kaniko"},
		{"kaniko told one", local("kaniko", "concurrency = 1\n"), EngineLocal, ProfileLocal, true, intp(1), "kaniko"},
		{"no push", local("docker", "push = false\n"), EngineLocal, ProfileLocal, false, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plan, err := Load(writeProject(t, tc.toml), LoadOptions{SkipCWL: true})
			if err != nil {
				t.Fatal(err)
			}
			if plan.Engine != tc.engine || plan.DefaultProfile() != tc.profile || plan.Local.Push != tc.push {
				t.Errorf("engine %q profile %q push %v", plan.Engine, plan.DefaultProfile(), plan.Local.Push)
			}
			if !reflect.DeepEqual(plan.Local.Concurrency, tc.concurrency) {
				t.Errorf("concurrency %v, want %v", deref(plan.Local.Concurrency), deref(tc.concurrency))
			}
			be, ok := plan.Runtime.Backend()
			if be != tc.backend || ok != (tc.backend != "") {
				t.Errorf("runtime %q: backend %q %v, want %q", plan.Runtime, be, ok, tc.backend)
			}
			if plan.Kaniko.Image != DefaultExecutorImage || plan.TTLDuration != DefaultTTLDuration || plan.Pin != PinTagDigest {
				t.Errorf("defaults: executor %q ttl %q pin %q", plan.Kaniko.Image, plan.TTLDuration, plan.Pin)
			}
			a, err := plan.Artifact("a")
			if err != nil {
				t.Fatal(err)
			}
			if a.Context != filepath.Join(plan.Dir, "tools", "a") || a.Dockerfile != DefaultDockerfile || a.Key != "tools.a" {
				t.Errorf("artifact a: %+v", a)
			}
			want := []ProcessRef{{Ref: "app.cwl#a", File: "app.cwl", Path: filepath.Join(plan.Dir, "app.cwl"), ID: "a", Key: "tools.a.path"}}
			if !reflect.DeepEqual(a.Processes, want) {
				t.Errorf("processes %+v, want %+v", a.Processes, want)
			}
		})
	}
	_, err := Load(writeProject(t, local("kaniko", "concurrency = 2\n")), LoadOptions{SkipCWL: true})
	if err == nil || !strings.Contains(err.Error(), "build.local.concurrency = 2: the kaniko runtime builds one image at a time") {
		t.Errorf("kaniko runtime with concurrency 2: %v", err)
	}
}

func deref(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

// TestPlanResolvesEverything: registries lose their trailing '/', images are
// named per profile, a path list keeps its order and keys, workflows keep
// their "#id", the cluster and Kaniko options are carried typed, and the
// secret is never mounted for the anonymous ttl registry.
func TestPlanResolvesEverything(t *testing.T) {
	toml := strings.Replace(base, `registry = "ghcr.io/eoap"`, `registry = "ghcr.io/eoap/"`, 1)
	toml = strings.Replace(toml, `path = "app.cwl#b"`, `path = ["app.cwl#b", "app.cwl#b2"]`, 1)
	toml += `
[build.kaniko]
concurrency = 4
timeout = "30m"
snapshotMode = "redo"
insecureRegistries = ["harbor.internal"]
registryMap = { "index.docker.io" = "harbor.internal/hub" }

[build.kaniko.cache]
repo = "harbor.internal/cache"

[[workflows]]
path = "app.cwl#main"
`
	plan, err := Load(writeProject(t, toml), LoadOptions{SkipCWL: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := plan.Registries[ProfileCluster]; got != "ghcr.io/eoap" {
		t.Errorf("cluster registry %q", got)
	}
	if got := plan.ToolNames(); !reflect.DeepEqual(got, []string{"b", "a"}) {
		t.Errorf("tool order %v", got)
	}
	b := plan.Artifacts[0]
	// No [build.local] registry: the local profile pushes to the cluster's,
	// never a bare name (Docker Hub's library namespace).
	if b.Images[ProfileCluster] != "ghcr.io/eoap/b" || b.Images[ProfileTTL] != "ttl.sh/p-b" || b.Images[ProfileLocal] != "ghcr.io/eoap/b" {
		t.Errorf("images %v", b.Images)
	}
	if len(b.Processes) != 2 || b.Processes[1].ID != "b2" || b.Processes[1].Key != "tools.b.path.1" {
		t.Errorf("processes %+v", b.Processes)
	}
	if len(plan.Workflows) != 1 || plan.Workflows[0].ID != "main" || plan.Workflows[0].Key != "workflows.0.path" {
		t.Errorf("workflows %+v", plan.Workflows)
	}
	if c := plan.Cluster; c.Concurrency != 4 || c.Timeout != "30m" || c.Namespace != "ns" || c.Secret != "push" {
		t.Errorf("cluster %+v", c)
	}
	if plan.PushSecret(ProfileCluster) != "push" || plan.PushSecret(ProfileTTL) != "" || plan.Builder(ProfileTTL) != ProfileCluster {
		t.Error("ttl must build with the default builder and mount no secret")
	}
	if k := plan.Kaniko; k.Options.Cache == nil || k.Options.Cache.Repo != "harbor.internal/cache" ||
		k.Options.SnapshotMode != "redo" || !reflect.DeepEqual(k.Insecure, []string{"harbor.internal"}) ||
		!reflect.DeepEqual(k.Options.RegistryMap["index.docker.io"], []string{"harbor.internal/hub"}) {
		t.Errorf("kaniko %+v", k)
	}
	if _, err := plan.Artifact("c"); err == nil || !strings.Contains(err.Error(), `has no tool "c" (tools: b, a)`) {
		t.Errorf("unknown tool: %v", err)
	}
	if err := plan.Errorf("tools.a.context", "bad"); !strings.Contains(err.Error(), "project.toml:18: bad") {
		t.Errorf("Errorf: %v", err)
	}
}

func TestParseNames(t *testing.T) {
	if _, err := ParseProfile("ttl"); err != nil {
		t.Error(err)
	}
	if _, err := ParseProfile("prod"); err == nil {
		t.Error("profile prod accepted")
	}
	if m, err := ParsePinMode("digest"); err != nil || m != PinDigest {
		t.Error(m, err)
	}
	if _, err := ParsePinMode("tag"); err == nil {
		t.Error("pin mode tag accepted")
	}
}

// TestPodImageWarnings: the executor and init images must be on a registry
// project.toml names, or check warns; a local-engine project is not asked.
func TestPodImageWarnings(t *testing.T) {
	for _, tc := range []struct {
		name, extra string
		want        []string
	}{
		{"defaults", "", []string{"build.kaniko.initImage is not set: Skaffold's default init image gcr.io/k8s-skaffold/skaffold-helpers/busybox is on gcr.io"}},
		{"both on the mirror", "[build.kaniko]\nimage = \"mirror.internal/kaniko:v1\"\ninitImage = \"mirror.internal/library/busybox:1\"\nregistryMap = { \"index.docker.io\" = \"mirror.internal\" }\n", nil},
		{"executor elsewhere", "[build.kaniko]\nimage = \"quay.io/k/kaniko:v1\"\ninitImage = \"ghcr.io/eoap/busybox:1\"\n",
			[]string{"the Kaniko executor quay.io/k/kaniko:v1 is on quay.io"}},
		{"init image on the ttl registry only", "[build.kaniko]\ninitImage = \"ttl.sh/busybox:1\"\n", []string{"the init image ttl.sh/busybox:1 is on ttl.sh"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plan, err := Load(writeProject(t, base+tc.extra), LoadOptions{SkipCWL: true})
			if err != nil {
				t.Fatal(err)
			}
			got := plan.PodImageWarnings()
			if len(got) != len(tc.want) {
				t.Fatalf("warnings %v, want %d", got, len(tc.want))
			}
			for i, w := range tc.want {
				if !strings.Contains(got[i].Error(), w) {
					t.Errorf("warning %q, want %q", got[i], w)
				}
			}
		})
	}
	local := strings.Replace(base, `engine = "cluster"`, `engine = "local"`, 1) + "[build.local]\nregistry = \"127.0.0.1:5000\"\n"
	plan, err := Load(writeProject(t, local), LoadOptions{SkipCWL: true})
	if err != nil {
		t.Fatal(err)
	}
	if w := plan.PodImageWarnings(); len(w) != 0 {
		t.Errorf("local engine warned: %v", w)
	}
}

// TestNameRulesAtTheirBoundaries: tool names, the ttl duration and the
// project-name prefix of ttl images, at each end of each character range
// and length limit.
func TestNameRulesAtTheirBoundaries(t *testing.T) {
	for name, ok := range map[string]bool{
		"a": true, "z": true, "0": true, "9": true, "a.b": true, "a_b": true, "a-b": true,
		"`x": false, "{x": false, "/x": false, ":x": false, "Ax": false, "x@": false, "x[": false,
		".x": false, "-x": false, "_x": false, "": false,
		strings.Repeat("a", 128): true, strings.Repeat("a", 129): false,
	} {
		if got := validToolName(name); got != ok {
			t.Errorf("validToolName(%q) = %v, want %v", name, got, ok)
		}
	}
	for d, ok := range map[string]bool{
		"1s": true, "2h": true, "30m": true, "7d": true, "99999h": true, "100000h": false,
		"h": false, "2": false, "2w": false, "x2h": false, "-2h": false, "": false,
	} {
		if got := validTTL(d); got != ok {
			t.Errorf("validTTL(%q) = %v, want %v", d, got, ok)
		}
	}
	for name, want := range map[string]string{
		"EOAP Sample": "eoap-sample", "a`b{c": "a-b-c", "z/0:9@A[Z": "z-0-9-a-z",
		"--x--": "x", "": "", "Water_Bodies 2": "water-bodies-2",
	} {
		if got := ttlPrefix(name); got != want {
			t.Errorf("ttlPrefix(%q) = %q, want %q", name, got, want)
		}
	}
}

// TestConcurrencyBounds: 0 means no limit and is accepted; -1 is refused.
func TestConcurrencyBounds(t *testing.T) {
	for _, tc := range []struct {
		extra string
		ok    bool
	}{
		{"[build.local]\nconcurrency = 0\n", true},
		{"[build.local]\nconcurrency = -1\n", false},
		{"[build.kaniko]\nconcurrency = 0\n", true},
		{"[build.kaniko]\nconcurrency = -1\n", false},
	} {
		_, err := Load(writeProject(t, base+tc.extra), LoadOptions{SkipCWL: true})
		if (err == nil) != tc.ok {
			t.Errorf("%q: %v", tc.extra, err)
		}
	}
}

// TestRepositoryScrubbed: a token written into [project] repository never
// reaches the plan, so no label or annotation carries it.
func TestRepositoryScrubbed(t *testing.T) {
	toml := "[project]\nname = \"p\"\nrepository = \"https://ci:glpat-SECRET@gitlab.example/org/pkg.git?private_token=SECRET\"\n[build]\nengine = \"local\"\n[build.local]\nregistry = \"r.io\"\n[tools.a]\ncontext = \"tools/a\"\npath = \"x.cwl#a\"\n"
	plan, err := Load(writeProject(t, toml), LoadOptions{SkipCWL: true})
	if err != nil {
		t.Fatal(err)
	}
	if plan.Repository != "https://gitlab.example/org/pkg.git" || plan.Labels(plan.Artifacts[0])[LabelSource] != plan.Repository {
		t.Errorf("repository %q, labels %v", plan.Repository, plan.Labels(plan.Artifacts[0]))
	}
}

// TestLoadLimits: a project.toml over MaxProjectSize is refused unread, with
// its name; a load whose context ends returns at once with the cause.
func TestLoadLimits(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "project.toml")
	os.WriteFile(big, []byte("# "+strings.Repeat("x", MaxProjectSize)+"\n"), 0o644)
	if _, err := Load(big, LoadOptions{}); err == nil || !strings.Contains(err.Error(), big+": larger than 8 MB") {
		t.Errorf("a huge project.toml: %v", err)
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(errors.New("interrupted by terminated"))
	if _, err := LoadContext(ctx, writeProject(t, "[build]\nengine = \"local\"\n"), LoadOptions{}); err == nil || !strings.Contains(err.Error(), "interrupted while loading, before any file was replaced: interrupted by terminated") {
		t.Errorf("an ended context: %v", err)
	}
}

// TestClusterDefaultsByMeasurement: the cluster's Kaniko pods get the layer
// cache (REGISTRY/cache, two weeks) unless it is turned off or no registry
// is known, and --reproducible only when project.toml asks for it; local
// builds stay reproducible by default.
func TestClusterDefaultsByMeasurement(t *testing.T) {
	load := func(t *testing.T, toml string) *Plan {
		t.Helper()
		plan, err := Load(writeProject(t, toml), LoadOptions{SkipCWL: true})
		if err != nil {
			t.Fatal(err)
		}
		return plan
	}
	withBuild := func(key string) string {
		return strings.Replace(base, `engine = "cluster"`, "engine = \"cluster\"\n"+key, 1)
	}

	p := load(t, base)
	if c := p.ClusterCache(); c == nil || c.Repo != "ghcr.io/eoap/cache" || c.TTL != DefaultCacheTTL || c.CopyLayers || c.RunLayers != nil {
		t.Errorf("default cache %+v", c)
	}
	if p.Kaniko.PodsReproducible || !p.Reproducible {
		t.Errorf("default: pods reproducible %v, local %v; want false, true", p.Kaniko.PodsReproducible, p.Reproducible)
	}
	if r := p.Cluster.Resources; r == nil || r.Requests == nil || r.Requests.Memory != "1Gi" || r.Requests.CPU != "500m" || r.Limits == nil || r.Limits.Memory != "4Gi" {
		t.Errorf("default resources %+v", r)
	}
	if p := load(t, withBuild("reproducible = true")); !p.Kaniko.PodsReproducible || !p.Reproducible || p.Cluster.Resources.Limits.Memory != "8Gi" {
		t.Error("reproducible = true must reach the pods, with room for the whole image in memory")
	}
	if r := load(t, base+"\n[build.kaniko.resources]\n").Cluster.Resources; r == nil || r.Requests != nil || r.Limits != nil {
		t.Errorf("an empty resources table must set none: %+v", r)
	}
	if p := load(t, withBuild("reproducible = false")); p.Kaniko.PodsReproducible || p.Reproducible {
		t.Error("reproducible = false must reach every builder")
	}
	if c := load(t, base+"\n[build.kaniko.cache]\nenabled = false\n").ClusterCache(); c != nil {
		t.Errorf("enabled = false: cache %+v", c)
	}
	if c := load(t, base+"\n[build.kaniko.cache]\nrepo = \"harbor.internal/c\"\nttl = \"24h\"\n").ClusterCache(); c == nil || c.Repo != "harbor.internal/c" || c.TTL != "24h" {
		t.Errorf("explicit cache %+v", c)
	}
	noRegistry := strings.Replace(base, "registry = \"ghcr.io/eoap\"\n", "", 1)
	noRegistry = strings.Replace(noRegistry, "[tools.b]\n", "[tools.b]\nimage = \"ghcr.io/x/b\"\n", 1)
	noRegistry = strings.Replace(noRegistry, "[tools.a]\n", "[tools.a]\nimage = \"ghcr.io/x/a\"\n", 1)
	if c := load(t, noRegistry).ClusterCache(); c != nil {
		t.Errorf("no registry: cache %+v, want none (Kaniko would need one)", c)
	}
}

// TestPullFrom: a base image is pulled from the registry map's first
// target for its registry (Docker Hub under any of its names), else from
// the first Docker Hub mirror; other registries are pulled as named.
func TestPullFrom(t *testing.T) {
	k := ExecutorOptions{
		RegistryMap:     map[string][]string{"index.docker.io": {"harbor.x/hub", "mirror.y"}, "ghcr.io": {"harbor.x/ghcr"}},
		RegistryMirrors: []string{"mirror.z"},
	}
	mirrorOnly := ExecutorOptions{RegistryMirrors: []string{"mirror.z", "mirror.w"}}
	for _, tc := range []struct {
		k        ExecutorOptions
		in, want string
	}{
		{k, "busybox:1.36", "harbor.x/hub/library/busybox:1.36"},
		{k, "docker.io/eoap/base@sha256:" + strings.Repeat("a", 64), "harbor.x/hub/eoap/base@sha256:" + strings.Repeat("a", 64)},
		{k, "ghcr.io/eoap/gdal:3", "harbor.x/ghcr/eoap/gdal:3"},
		{k, "quay.io/x/y:1", ""},
		{mirrorOnly, "busybox", "mirror.z/library/busybox"},
		{mirrorOnly, "ghcr.io/eoap/gdal:3", ""},
	} {
		got, ok := tc.k.PullFrom(tc.in)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("PullFrom(%q) = %q, %v; want %q", tc.in, got, ok, tc.want)
		}
	}
}
