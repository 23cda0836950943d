package build

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/modfile"

	"github.com/eoap/cwlbuild/builder"
)

// TestBuildKitRequest: what a build sends buildkitd. The daemon's own
// Dockerfile frontend whatever `# syntax=` says; the tool's target, build
// args and labels; SOURCE_DATE_EPOCH and rewritten file times for a
// reproducible build; a base the registry map covers replaced by a named
// context; plain HTTP for a listed insecure registry, not for loopback
// (buildkitd's own rule) nor for a registry with TLS.
func TestBuildKitRequest(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "docker"), 0o755)
	os.WriteFile(filepath.Join(dir, "docker", "Containerfile"), []byte("# syntax=evil.example/frontend:1\nFROM busybox:1.36 AS base\nFROM ghcr.io/eoap/gdal:3\nCOPY --from=base /bin/sh /sh\nCOPY --from=quay.io/x/y:1 /a /a\n"), 0o644)
	ts := int64(1700000000)
	s := &Spec{
		Image: "harbor.internal/eoap/crop:1", Context: dir, Dockerfile: "docker/Containerfile",
		Target: "final", BuildArgs: map[string]string{"A": "1"}, Labels: map[string]string{"org.opencontainers.image.title": "crop"},
		Timestamp: &ts, RewriteTimestamps: true, Insecure: []string{"harbor.internal"},
		Kaniko: builder.ExecutorOptions{RegistryMap: map[string][]string{"index.docker.io": {"127.0.0.1:5000/hub"}, "ghcr.io": {"harbor.internal/ghcr"}}},
	}
	r, err := s.request()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"cmdline":                              "dockerfile.v0",
		"filename":                             "Containerfile",
		"target":                               "final",
		"build-arg:A":                          "1",
		"build-arg:SOURCE_DATE_EPOCH":          "1700000000",
		"label:org.opencontainers.image.title": "crop",
		"context:busybox:1.36":                 "docker-image://127.0.0.1:5000/hub/library/busybox:1.36",
		"context:ghcr.io/eoap/gdal:3":          "docker-image://harbor.internal/ghcr/eoap/gdal:3",
	}
	for k, v := range want {
		if r.frontend[k] != v {
			t.Errorf("frontend %s = %q, want %q", k, r.frontend[k], v)
		}
	}
	if len(r.frontend) != len(want) {
		t.Errorf("frontend options %v, want only %v", r.frontend, want)
	}
	if r.dockerfileDir != filepath.Join(dir, "docker") || r.context != dir {
		t.Errorf("locals: context %s, dockerfile %s", r.context, r.dockerfileDir)
	}
	if r.export["rewrite-timestamp"] != "true" || r.export["registry.insecure"] != "true" || r.export["push"] != "true" || r.export["name"] != s.Image {
		t.Errorf("export %v", r.export)
	}
	cmds, err := BuildKit{Address: "unix:///x.sock"}.Commands(s)
	if err != nil {
		t.Fatal(err)
	}
	line := cmds[0].String()
	for _, w := range []string{"buildctl --addr unix:///x.sock build --frontend dockerfile.v0", "--local context=" + dir, "--opt target=final",
		"--output type=image,name=harbor.internal/eoap/crop:1,push=true,registry.insecure=true,rewrite-timestamp=true"} {
		if !strings.Contains(line, w) {
			t.Errorf("buildctl line lacks %q:\n%s", w, line)
		}
	}

	s.RewriteTimestamps = false
	if r, _ = s.request(); r.export["rewrite-timestamp"] != "" || r.frontend["build-arg:SOURCE_DATE_EPOCH"] != "1700000000" {
		t.Errorf("reproducible by default: SOURCE_DATE_EPOCH, no pass over the layers: %v %v", r.frontend, r.export)
	}
	s.Image, s.Insecure, s.Timestamp = "127.0.0.1:5000/eoap/crop:1", nil, nil
	r, _ = s.request()
	if _, ok := r.export["registry.insecure"]; ok {
		t.Errorf("loopback: %v", r.export)
	}
	if _, ok := r.export["rewrite-timestamp"]; ok || r.frontend["build-arg:SOURCE_DATE_EPOCH"] != "" {
		t.Errorf("not reproducible: %v %v", r.frontend, r.export)
	}
	s.Image = "ghcr.io/eoap/crop:1"
	if r, _ = s.request(); r.export["registry.insecure"] != "" {
		t.Errorf("TLS registry: %v", r.export)
	}
	s.Tarball = "/out/x.tar"
	if _, err := s.request(); err == nil {
		t.Error("a tarball through buildkit: no error")
	}
}

// TestBuildKitCache: a registry cache is read and written at one tag per
// image repository, every step's layer exported (mode=max), over plain
// HTTP only where the registry is listed; a repository with a tag, or a
// path longer than a tag may be, is handled.
func TestBuildKitCache(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM busybox:1.36\n"), 0o644)
	s := &Spec{Image: "10.244.0.1:5002/pkg/crop:1", Context: dir, Dockerfile: "Dockerfile", CacheRepo: "10.244.0.1:5002/cache", Insecure: []string{"10.244.0.1:5002"}}
	r, err := s.request()
	if err != nil {
		t.Fatal(err)
	}
	if r.cache["ref"] != "10.244.0.1:5002/cache:buildkit-pkg-crop" || r.cache["registry.insecure"] != "true" || r.cache["mode"] != "" {
		t.Errorf("import %v", r.cache)
	}
	if ex := r.cacheExport(); ex["mode"] != "max" || ex["ref"] != r.cache["ref"] {
		t.Errorf("export %v", ex)
	}
	cmds, _ := BuildKit{}.Commands(s)
	if line := cmds[0].String(); !strings.Contains(line, "--import-cache type=registry,ref=10.244.0.1:5002/cache:buildkit-pkg-crop,registry.insecure=true --export-cache type=registry,mode=max,ref=") {
		t.Errorf("buildctl line: %s", line)
	}
	s.CacheRepo = "127.0.0.1:5000/cache"
	if r, _ = s.request(); r.cache["registry.insecure"] != "" {
		t.Errorf("loopback cache: %v", r.cache)
	}
	s.CacheRepo = ""
	if r, _ = s.request(); r.cache != nil {
		t.Errorf("no cache repository: %v", r.cache)
	}
	s.CacheRepo = "127.0.0.1:5000/cache:v1"
	if _, err := s.request(); err == nil {
		t.Error("a cache repository with a tag: no error")
	}
	long := "127.0.0.1:5000/" + strings.Repeat("a/", 80) + "tool:1"
	ref, err := cacheRef("127.0.0.1:5000/cache", long)
	if tag := ref[strings.LastIndexByte(ref, ':')+1:]; err != nil || len(tag) != 128 {
		t.Errorf("long path: %q %v", ref, err)
	}
	other, _ := cacheRef("127.0.0.1:5000/cache", strings.Replace(long, "tool", "tool2", 1))
	if other == ref {
		t.Errorf("two long paths, one tag %s", ref)
	}
}

// TestBuildKitDaemonMatchesClient: the buildkitd scripts/buildkitd.sh
// builds is the version of the client this module links, so the two speak
// one protocol.
func TestBuildKitDaemonMatchesClient(t *testing.T) {
	version := func(gomod string) string {
		t.Helper()
		data, err := os.ReadFile(gomod)
		if err != nil {
			t.Fatal(err)
		}
		f, err := modfile.ParseLax(gomod, data, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range f.Require {
			if r.Mod.Path == "github.com/moby/buildkit" {
				return r.Mod.Version
			}
		}
		t.Fatalf("%s requires no github.com/moby/buildkit", gomod)
		return ""
	}
	root := filepath.Join("..", "go.mod")
	if daemon, client := version(filepath.Join("..", "scripts", "buildkit", "go.mod")), version(root); daemon != client {
		t.Errorf("scripts/buildkit pins buildkitd %s, the client in go.mod is %s", daemon, client)
	}
}

// TestKubePodAddress: kube-pod://POD?namespace=NS[&container=C] with
// Kubernetes names and nothing else: the names become the agent's
// arguments.
func TestKubePodAddress(t *testing.T) {
	for addr, want := range map[string]string{
		"kube-pod://buildkitd-0?namespace=eoap":                     "buildkitd-0 eoap ",
		"kube-pod://buildkitd-0?namespace=eoap&container=buildkitd": "buildkitd-0 eoap buildkitd",
		"kube-pod://buildkitd-0":                                    "buildkitd-0  ",
		"kube-pod://buildkitd-0?namespace=":                         "buildkitd-0  ",
		"kube-pod://-x?namespace=eoap":                              "",
		"kube-pod://b?namespace=--kubeconfig=/x":                    "",
		"kube-pod://b?namespace=eoap&container=--privileged":        "",
		"kube-pod://b?namespace=eoap&port=1234":                     "",
		"kube-pod://b?namespace=eoap&context=x":                     "",
		"kube-pod://u@b?namespace=eoap":                             "",
		"kube-pod://b/x?namespace=eoap":                             "",
	} {
		u, err := url.Parse(addr)
		if err != nil {
			t.Fatal(err)
		}
		got, err := kubePod(u)
		if s := fmt.Sprintf("%s %s %s", got.pod, got.namespace, got.container); (err == nil) != (want != "") || err == nil && s != want {
			t.Errorf("%s: %q, %v; want %q", addr, s, err, want)
		}
	}
}

// TestUntrustedAddress: an untrusted build leaves the cluster builder's
// shared daemon for the namespace's untrusted one, and only that address.
func TestUntrustedAddress(t *testing.T) {
	for addr, want := range map[string]string{
		"kube-pod://buildkitd-0?namespace=eoap": "kube-pod://buildkitd-untrusted-0?namespace=eoap",
		"kube-pod://buildkitd-0":                "kube-pod://buildkitd-untrusted-0",
		"kube-pod://other-0?namespace=eoap":     "",
		"unix:///run/buildkit/buildkitd.sock":   "",
		"tcp://127.0.0.1:1234":                  "",
	} {
		got, moved := UntrustedAddress(addr)
		if moved != (want != "") || moved && got != want || !moved && got != addr {
			t.Errorf("%s: %s %t, want %q", addr, got, moved, want)
		}
	}
}
