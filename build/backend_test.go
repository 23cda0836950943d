package build

import (
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/eoap/cwlbuild/builder"
)

func TestBackendCommands(t *testing.T) {
	off := false
	b := &Spec{
		Image: "127.0.0.1:5000/pkg/crop:abc", Context: "/ctx dir", Dockerfile: "docker/Dockerfile",
		Target: "run", BuildArgs: map[string]string{"B": "two words", "A": "$(id)"},
		Kaniko: builder.ExecutorOptions{
			Cache:             &builder.KanikoCache{Repo: "harbor.example/cache/crop", TTL: "24h"},
			RegistryMirrors:   []string{"mirror.example"},
			RegistryMap:       map[string][]string{"index.docker.io": {"harbor.example/proxy"}},
			SnapshotMode:      "redo",
			UseNewRun:         true,
			CompressedCaching: &off,
		},
		Insecure: []string{"harbor.example"},
	}
	cmds, err := Kaniko{}.Commands(b)
	if err != nil {
		t.Fatal(err)
	}
	want := Command{"/kaniko/executor", "--context", "dir:///ctx dir", "--dockerfile", "/ctx dir/docker/Dockerfile",
		"--destination", "127.0.0.1:5000/pkg/crop:abc", "--target", "run", "--build-arg", "A=$(id)", "--build-arg", "B=two words",
		"--cache=true", "--cache-repo", "harbor.example/cache/crop", "--cache-ttl", "24h",
		"--registry-mirror", "mirror.example", "--registry-map", "index.docker.io=harbor.example/proxy",
		"--snapshot-mode", "redo", "--use-new-run", "--compressed-caching=false",
		"--insecure-registry", "127.0.0.1:5000", "--insecure-registry", "harbor.example"}
	if !reflect.DeepEqual(cmds[0], want) {
		t.Errorf("kaniko argv\n got %q\nwant %q", cmds[0], want)
	}
	b.Tarball = "/out/crop.tar"
	cmds, _ = Kaniko{}.Commands(b)
	if s := cmds[0].String(); !strings.HasSuffix(s, "--no-push --no-push-cache --tar-path /out/crop.tar") || !strings.Contains(s, "'A=$(id)'") {
		t.Errorf("tar argv: %s", s)
	}
	b.Tarball = ""
	cmds, _ = Buildah{}.Commands(b)
	wantBuild := Command{"buildah", "bud", "--isolation", "chroot", "--layers", "-f", "/ctx dir/docker/Dockerfile", "-t", "127.0.0.1:5000/pkg/crop:abc",
		"--target", "run", "--build-arg", "A=$(id)", "--build-arg", "B=two words", "/ctx dir"}
	wantPush := Command{"buildah", "push", "--tls-verify=false", "127.0.0.1:5000/pkg/crop:abc", "docker://127.0.0.1:5000/pkg/crop:abc"}
	if !reflect.DeepEqual(cmds, []Command{wantBuild, wantPush}) {
		t.Errorf("buildah argv\n got %q\nwant %q", cmds, []Command{wantBuild, wantPush})
	}
	b.Image = "ghcr.io/eoap/crop:abc"
	cmds, _ = Podman{}.Commands(b)
	if cmds[0][1] != "build" || strings.Contains(cmds[1].String(), "tls-verify") {
		t.Errorf("podman to a TLS registry: %q", cmds)
	}
	if _, err := ParseBackend("docker", ""); err == nil {
		t.Error("unknown backend accepted")
	}
}

// TestKanikoOnePlatform: Kaniko builds one platform per run; a request for
// several is refused instead of silently building the first.
func TestKanikoOnePlatform(t *testing.T) {
	b := &Spec{Image: "127.0.0.1:5000/pkg/crop:1", Context: "/ctx", Dockerfile: "Dockerfile", Platforms: []string{"linux/arm64"}}
	cmds, err := Kaniko{}.Commands(b)
	if err != nil || !strings.Contains(cmds[0].String(), "--custom-platform linux/arm64") {
		t.Errorf("one platform: %v %v", cmds, err)
	}
	b.Platforms = []string{"linux/amd64", "linux/arm64"}
	if _, err := (Kaniko{}).Commands(b); err == nil || !strings.Contains(err.Error(), "kaniko builds one platform per run, and 2 were asked for (linux/amd64,linux/arm64)") {
		t.Errorf("two platforms: %v", err)
	}
	b.DigestFile = "/tmp/d"
	for _, be := range []Backend{Buildah{}, Podman{}} {
		cmds, err := be.Commands(b)
		if err != nil || len(cmds) != 2 {
			t.Fatalf("%s, two platforms: %v %v", be.Name(), cmds, err)
		}
		build, push := cmds[0].String(), cmds[1].String()
		list := regexp.MustCompile(`--manifest (localhost/cwlbuild-list/[0-9a-f]{12}-[0-9a-f]{12}) `).FindStringSubmatch(build)
		if list == nil || !strings.Contains(build, "--platform linux/amd64,linux/arm64") || strings.Contains(build, " -t ") {
			t.Errorf("%s, two platforms: the build is not into a manifest list of its own:\n%s", be.Name(), build)
			continue
		}
		if want := be.Name() + " manifest push --all --rm --tls-verify=false --digestfile /tmp/d " + list[1] + " docker://127.0.0.1:5000/pkg/crop:1"; push != want {
			t.Errorf("%s push:\n%s\nwant\n%s", be.Name(), push, want)
		}
		again, _ := be.Commands(b)
		if again[0].String() == build {
			t.Errorf("%s: two builds of one image share a manifest list", be.Name())
		}
	}
	b.Platforms = []string{"linux/arm64"}
	if cmds, _ := (Buildah{}).Commands(b); !strings.Contains(cmds[0].String(), " -t 127.0.0.1:5000/pkg/crop:1") || cmds[1][1] != "push" {
		t.Errorf("buildah, one platform: an image, not a list: %v", cmds)
	}
}

// TestBackendPerRuntime: every [build.local] runtime but docker is a
// backend of its name and every backend is a runtime, so that a new
// runtime is one entry in builder.Runtimes plus a backend here; the
// executor lock is a property of the backend, not of its name.
func TestBackendPerRuntime(t *testing.T) {
	for _, r := range builder.Runtimes {
		name, plugin := r.Backend()
		if !plugin {
			if r != builder.RuntimeDocker {
				t.Errorf("runtime %q has no plugin backend", r)
			}
			continue
		}
		be, err := ParseBackend(name, "")
		if err != nil || be.Name() != name {
			t.Errorf("runtime %q: backend %v, %v", r, be, err)
		}
		_, exclusive := be.(Exclusive)
		if exclusive != (r == builder.RuntimeKaniko) {
			t.Errorf("runtime %q: exclusive %v", r, exclusive)
		}
	}
	for name := range backends {
		if _, ok := builder.Runtime(name).Backend(); !ok {
			t.Errorf("backend %q is no [build.local] runtime: builder.Runtimes lacks it", name)
		}
	}
	if got, want := strings.Join(BackendNames(), " "), "podman buildah buildkit kaniko"; got != want {
		t.Errorf("BackendNames = %q, want %q", got, want)
	}
	_, err := ParseBackend("docker", "")
	if err == nil || !strings.Contains(err.Error(), `must be "podman", "buildah", "buildkit" or "kaniko"`) {
		t.Errorf("docker as a backend: %v", err)
	}
}
