package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eoap/cwlbuild/internal/filelock"
)

// TestPluginToolDefaults: with --tool and -f and neither IMAGE nor
// BUILD_CONTEXT, the plugin builds the tool's own context as its image under
// the default profile, tagged [project] version, with its labels.
func TestPluginToolDefaults(t *testing.T) {
	dir := writeEnginePackage(t, "127.0.0.1:5999", "kaniko")
	t.Setenv("IMAGE", "")
	t.Setenv("BUILD_CONTEXT", "")
	os.Unsetenv("IMAGE")
	os.Unsetenv("BUILD_CONTEXT")
	stdout, stderr, code := run(t, "plugin", "--backend", "kaniko", "--tool", "count", "-f", filepath.Join(dir, "project.toml"), "--dry-run")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		"--context dir://" + filepath.Join(dir, "tools", "count") + " ",
		"--destination 127.0.0.1:5999/pkg/count:0.1.0 ",
		"--label org.opencontainers.image.title=count ",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("argv lacks %q:\n%s", want, stdout)
		}
	}
	if _, stderr, code := run(t, "plugin", "--backend", "kaniko", "--dry-run"); code != 2 || !strings.Contains(stderr, "no image to build") {
		t.Errorf("no image, no tool: exit %d %s", code, stderr)
	}
}

// TestPluginUntrusted: a build of a fork's pull request goes to the
// namespace's untrusted buildkitd, not the shared one, and reads the
// registry cache without writing it; a trusted one is unchanged.
func TestPluginUntrusted(t *testing.T) {
	dir := writeEnginePackage(t, "127.0.0.1:5999", "buildkit")
	args := []string{"plugin", "--backend", "buildkit", "--buildkit-addr", "kube-pod://buildkitd-0?namespace=eoap", "--cache-repo", "127.0.0.1:5999/cache",
		"--tool", "count", "-f", filepath.Join(dir, "project.toml"), "--image", "127.0.0.1:5999/pkg/count:pr", "--dry-run"}
	t.Setenv("CWLBUILD_UNTRUSTED", "false")
	stdout, _, code := run(t, args...)
	if code != 0 || !strings.Contains(stdout, "--addr 'kube-pod://buildkitd-0?namespace=eoap' ") || !strings.Contains(stdout, "--export-cache") {
		t.Errorf("trusted: exit %d\n%s", code, stdout)
	}
	t.Setenv("CWLBUILD_UNTRUSTED", "true")
	stdout, stderr, code := run(t, args...)
	if code != 0 || !strings.Contains(stdout, "--addr 'kube-pod://buildkitd-untrusted-0?namespace=eoap' ") || !strings.Contains(stdout, "--import-cache") || strings.Contains(stdout, "--export-cache") ||
		!strings.Contains(stderr, "an untrusted build (CWLBUILD_UNTRUSTED=true): buildkitd at kube-pod://buildkitd-untrusted-0?namespace=eoap") {
		t.Errorf("untrusted: exit %d\n%s%s", code, stdout, stderr)
	}
}

// TestPluginKanikoOneAtATime: while another process holds the executor's
// lock, the kaniko backend refuses to start a second executor in the same
// container.
func TestPluginKanikoOneAtATime(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	unlock, err := filelock.TryLock(filepath.Join(tmp, ".cwlbuild-kaniko.lock"))
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	_, stderr, code := run(t, "plugin", "--backend", "kaniko", "--image", "127.0.0.1:5999/x:1", "--context", tmp, "--executor", "/nonexistent/executor")
	if code != 1 || !strings.Contains(stderr, "another Kaniko build is running in this container") {
		t.Errorf("exit %d: %s", code, stderr)
	}
	unlock()
	_, stderr, code = run(t, "plugin", "--backend", "kaniko", "--image", "127.0.0.1:5999/x:1", "--context", tmp, "--executor", "/nonexistent/executor")
	if code == 0 || strings.Contains(stderr, "another Kaniko build") {
		t.Errorf("with the lock free the plugin did not get to the executor: exit %d: %s", code, stderr)
	}
}

// TestPluginClusterDryRun: --cluster with two platforms describes one
// executor run per platform, each for its own platform and tag, with the
// cluster's layer cache; another backend with --cluster is refused.
func TestPluginClusterDryRun(t *testing.T) {
	toml := filepath.Join("..", "..", "testdata", "projects", "multiplatform", "project.toml")
	out, stderr, code := run(t, "plugin", "--backend", "kaniko", "--cluster", "--dry-run", "--tool", "zeta", "-f", toml, "--image", "ghcr.io/eoap/zeta:1")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 2 {
		t.Fatalf("exit %d, want two commands:\n%s%s", code, out, stderr)
	}
	for i, p := range []string{"linux/amd64", "linux/arm64"} {
		for _, want := range []string{"--custom-platform " + p, "--destination ghcr.io/eoap/zeta:1-" + strings.ReplaceAll(p, "/", "-"), "--cache-repo ghcr.io/eoap/cache"} {
			if !strings.Contains(lines[i], want) {
				t.Errorf("%s: %s lacks %q", p, lines[i], want)
			}
		}
	}
	if _, stderr, code := run(t, "plugin", "--backend", "buildah", "--cluster", "--dry-run", "--tool", "zeta", "-f", toml); code != 2 || !strings.Contains(stderr, "--cluster runs Kaniko pods; --backend buildah is not kaniko") {
		t.Errorf("buildah --cluster: exit %d %s", code, stderr)
	}
}
