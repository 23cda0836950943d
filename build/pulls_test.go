package build

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestPulledImages: the images a Dockerfile pulls, as the daemonless
// engines would: ARGs before the first FROM with the build's args over
// their defaults, stages and scratch left out, COPY --from and RUN
// --mount=from= images in.
func TestPulledImages(t *testing.T) {
	df := `# syntax comment
ARG BASE=docker.io/library/busybox:1.36
ARG TOOLS
FROM --platform=$BUILDPLATFORM ${BASE} AS build
RUN --mount=type=cache,from=127.0.0.1:5001/cache:1,target=/c \
    echo hi
FROM scratch
COPY --from=build /x /x
COPY --from=quay.io/org/helper:2 /y /y
FROM ${TOOLS:-ghcr.io/org/tools:1}
FROM $UNSET
`
	for _, tc := range []struct {
		args map[string]string
		want []string
	}{
		{nil, []string{"docker.io/library/busybox:1.36", "127.0.0.1:5001/cache:1", "quay.io/org/helper:2", "ghcr.io/org/tools:1"}},
		{map[string]string{"BASE": "127.0.0.1:45793/kaniko@sha256:1", "TOOLS": "localhost:5000/t:1"},
			[]string{"127.0.0.1:45793/kaniko@sha256:1", "127.0.0.1:5001/cache:1", "quay.io/org/helper:2", "localhost:5000/t:1"}},
	} {
		if got := pulledImages([]byte(df), tc.args); !slices.Equal(got, tc.want) {
			t.Errorf("args %v: %q, want %q", tc.args, got, tc.want)
		}
	}
}

// TestDaemonlessPullsWithoutTLS: a build whose every pull is from a
// loopback (or listed insecure) registry gets --tls-verify=false, as its
// push does; one that also pulls from a TLS registry keeps verifying.
func TestDaemonlessPullsWithoutTLS(t *testing.T) {
	for df, want := range map[string]bool{
		"ARG K=127.0.0.1:45793/kaniko@sha256:1\nFROM $K\n":                  true,
		"FROM harbor.example/base:1\n":                                      true,
		"FROM 127.0.0.1:45793/a:1\nCOPY --from=docker.io/library/b:1 / /\n": false,
		"FROM docker.io/library/busybox:1.36\n":                             false,
		"FROM scratch\n":                                                    false,
	} {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(df), 0o644)
		spec := &Spec{Context: dir, Dockerfile: "Dockerfile", Image: "127.0.0.1:5000/pkg/crop:abc", Insecure: []string{"harbor.example"}}
		for _, backend := range []string{"buildah", "podman"} {
			cmds, err := spec.daemonless(backend, "")
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Contains(cmds[0].String(), "--tls-verify=false"); got != want {
				t.Errorf("%s, %q: build %s; want --tls-verify=false %v", backend, df, cmds[0], want)
			}
		}
	}
}

// TestDaemonlessPullsSymlink: a Dockerfile that is a symlink is not read
// (it may lead out of the package): the build keeps TLS.
func TestDaemonlessPullsSymlink(t *testing.T) {
	dir := t.TempDir()
	outside := filepath.Join(t.TempDir(), "Dockerfile")
	os.WriteFile(outside, []byte("FROM 127.0.0.1:45793/a:1\n"), 0o644)
	if err := os.Symlink(outside, filepath.Join(dir, "Dockerfile")); err != nil {
		t.Fatal(err)
	}
	spec := &Spec{Context: dir, Dockerfile: "Dockerfile", Image: "127.0.0.1:5000/pkg/crop:abc"}
	cmds, err := spec.daemonless("buildah", "")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(cmds[0].String(), "--tls-verify=false") {
		t.Errorf("a symlinked Dockerfile was read: %s", cmds[0])
	}
}
