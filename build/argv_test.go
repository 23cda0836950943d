package build

import (
	"strings"
	"testing"

	"github.com/eoap/cwlbuild/builder"
)

// TestKanikoArgvEdges: no cache at all, a loopback cache repository (plain
// HTTP), the digest file, a tool's own Dockerfile, and quoting of "'".
func TestKanikoArgvEdges(t *testing.T) {
	b := &Spec{Image: "ghcr.io/eoap/crop:1", Context: "/ctx", Dockerfile: "Dockerfile"}
	cmds, err := Kaniko{}.Commands(b)
	if err != nil {
		t.Fatal(err)
	}
	if s := cmds[0].String(); strings.Contains(s, "--cache") || strings.Contains(s, "--insecure-registry") {
		t.Errorf("no cache, TLS registry: %s", s)
	}
	b.Kaniko.Cache = &builder.KanikoCache{Repo: "127.0.0.1:5000/cache"}
	b.DigestFile = "/out/digest"
	b.Dockerfile = "docker/Containerfile"
	b.BuildArgs = map[string]string{"Q": "it's"}
	cmds, _ = Kaniko{Executor: "/kaniko/executor"}.Commands(b)
	s := cmds[0].String()
	for _, want := range []string{
		"--cache=true --cache-repo 127.0.0.1:5000/cache",
		"--insecure-registry 127.0.0.1:5000", // the cache is on loopback
		"--digest-file /out/digest",
		"--dockerfile /ctx/docker/Containerfile",
		`--build-arg 'Q=it'\''s'`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("kaniko argv lacks %q:\n%s", want, s)
		}
	}
	cmds, _ = Buildah{}.Commands(b)
	if s := strings.Join([]string{cmds[0].String(), cmds[1].String()}, " && "); !strings.Contains(s, "--digestfile /out/digest") || !strings.Contains(s, "-f /ctx/docker/Containerfile") {
		t.Errorf("buildah argv lacks the digest file or the Dockerfile: %s", s)
	}
}
