package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eoap/cwlbuild/internal/testenv"
)

// TestDistReproducible builds the release archives (scripts/dist.sh, what
// `go tool task dist` runs) twice, from two clones of this repository at
// different paths, for linux/amd64 (the other platforms are the same
// commands with another GOOS/GOARCH): the archives and SHA256SUMS are the
// same bytes; SHA256SUMS verifies them; the SBOM is SPDX 2.3 listing this
// module and its dependencies; README's install block, run on them,
// verifies, unpacks and installs the programs; and the binaries, in a
// container with no Go (busybox), print the release's tag and commit.
func TestDistReproducible(t *testing.T) {
	testenv.RealEngine(t)
	testenv.RequireImage(t, testenv.BaseImage)
	podman := testenv.LookPath(t, "podman")
	root := testenv.ModuleRoot()
	commit, err := exec.Command("git", "-C", root, "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skipf("not a git checkout: %v", err)
	}
	const version = "v9.8.7"
	var outs []string
	for _, name := range []string{"one", "the-other"} {
		clone := filepath.Join(t.TempDir(), name)
		if out, err := exec.Command("git", "clone", "-q", root, clone).CombinedOutput(); err != nil {
			t.Fatalf("git clone: %v\n%s", err, out)
		}
		// The script of this working tree, on the clone's committed code.
		script, _ := os.ReadFile(filepath.Join(root, "scripts", "dist.sh"))
		os.WriteFile(filepath.Join(clone, "scripts", "dist.sh"), script, 0o755)
		exec.Command("git", "-C", clone, "update-index", "--assume-unchanged", "scripts/dist.sh").Run()
		out := filepath.Join(t.TempDir(), "dist")
		cmd := exec.Command(filepath.Join(clone, "scripts", "dist.sh"), out)
		cmd.Env = append(os.Environ(), "VERSION="+version, "PLATFORMS=linux/amd64")
		if msg, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("dist.sh: %v\n%s", err, msg)
		}
		outs = append(outs, out)
	}
	archive := "cwlbuild_9.8.7_linux_amd64.tar.gz"
	for _, f := range []string{archive, "SHA256SUMS"} {
		a, err1 := os.ReadFile(filepath.Join(outs[0], f))
		b, err2 := os.ReadFile(filepath.Join(outs[1], f))
		if err1 != nil || err2 != nil || !bytes.Equal(a, b) {
			t.Errorf("%s: two builds differ (%d and %d bytes; %v %v)", f, len(a), len(b), err1, err2)
		}
	}
	sums := exec.Command("sha256sum", "-c", "SHA256SUMS")
	sums.Dir = outs[0]
	if out, err := sums.CombinedOutput(); err != nil || !strings.Contains(string(out), archive+": OK") {
		t.Errorf("sha256sum -c SHA256SUMS: %v\n%s", err, out)
	}
	data, _ := os.ReadFile(filepath.Join(outs[0], "cwlbuild_9.8.7.spdx.json"))
	names := " " + spdxPackages(t, data)
	for _, want := range []string{"github.com/eoap/cwlbuild", "github.com/urfave/cli/v2", "github.com/anchore/syft", "k8s.io/client-go"} {
		if !strings.Contains(names, " "+want+" ") {
			t.Errorf("the SBOM does not list %s", want)
		}
	}
	// README's install block, as written, but for the download's address
	// (a file:// URL of the first dist) and the installation directory.
	unpacked, installed := t.TempDir(), t.TempDir()
	block := subst(t, testenv.READMEBlockStarting(t, "VERSION=v1.2.3 OS=linux ARCH=amd64").Text,
		"VERSION=v1.2.3", "VERSION="+version,
		"https://github.com/eoap/cwlbuild/releases/download/$VERSION", "file://"+outs[0],
		" /usr/local/bin/", " "+installed+"/")
	sh := exec.Command("bash", "-euo", "pipefail", "-c", block)
	sh.Dir, sh.Env = unpacked, append(os.Environ(), "PATH="+installed+":"+os.Getenv("PATH"))
	if out, err := sh.CombinedOutput(); err != nil || !strings.Contains(string(out), archive+": OK") || !strings.Contains(string(out), "cwlbuild version "+version) {
		t.Fatalf("README's install block: %v\n%s", err, out)
	}
	for _, prog := range []string{"cwlbuild", "cwlpatch", "cwlbuild-sbom", "cwlbuild-calrissian"} {
		if _, err := os.Stat(filepath.Join(installed, prog)); err != nil {
			t.Errorf("README's install block did not install %s: %v", prog, err)
		}
	}
	bin := filepath.Join(unpacked, strings.TrimSuffix(archive, ".tar.gz"))
	script := "set -e; for p in cwlbuild cwlpatch cwlbuild-calrissian; do /dist/$p --version; done; test ! -e /usr/local/go; ! command -v go"
	out, err := exec.Command(podman, "run", "--rm", "--network", "none", "-v", bin+":/dist:ro", testenv.BaseImage, "sh", "-c", script).CombinedOutput()
	if err != nil {
		t.Fatalf("the binaries in a container with no Go: %v\n%s", err, out)
	}
	rev := strings.TrimSpace(string(commit))
	for _, want := range []string{"cwlbuild version " + version + " (commit " + rev + ")", "cwlpatch version " + version + " (commit " + rev + ")", "cwlbuild-calrissian " + version} {
		if !strings.Contains(string(out), want) {
			t.Errorf("--version does not say %q:\n%s", want, out)
		}
	}
}
