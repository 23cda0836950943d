package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/module"
	"golang.org/x/mod/zip"

	"github.com/eoap/cwlbuild/internal/testenv"
)

// TestGoInstall installs both programs the way a user does, `go install
// github.com/eoap/cwlbuild/cmd/...@VERSION`, from a module proxy on disk
// holding this repository's committed HEAD as VERSION, with no network: the
// go command refuses a module whose go.mod has replace directives, so this
// fails if one creeps back in. Dependencies come from the module cache.
func TestGoInstall(t *testing.T) {
	testenv.RealEngine(t)
	testenv.LookPath(t, "git")
	const version = "v1.0.0-test"
	mod := module.Version{Path: "github.com/eoap/cwlbuild", Version: version}
	proxy := t.TempDir()
	at := filepath.Join(proxy, "github.com", "eoap", "cwlbuild", "@v")
	if err := os.MkdirAll(at, 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(at, version+".zip"))
	if err != nil {
		t.Fatal(err)
	}
	// The committed tree (git archive), without nested modules, as the
	// module proxy would serve a tag.
	if err := zip.CreateFromVCS(f, mod, testenv.ModuleRoot(), "HEAD", ""); err != nil {
		t.Fatal(err)
	}
	f.Close()
	gomod, err := exec.Command("git", "-C", testenv.ModuleRoot(), "show", "HEAD:go.mod").Output()
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(at, version+".mod"), gomod, 0o644)
	os.WriteFile(filepath.Join(at, version+".info"), []byte(`{"Version":"`+version+`","Time":"2026-01-01T00:00:00Z"}`), 0o644)
	os.WriteFile(filepath.Join(at, "list"), []byte(version+"\n"), 0o644)

	gobin := t.TempDir()
	cmd := exec.Command("go", "install", mod.Path+"/cmd/cwlbuild@"+version, mod.Path+"/cmd/cwlpatch@"+version)
	cmd.Dir = t.TempDir() // outside any module
	cmd.Env = append(os.Environ(), "GOBIN="+gobin, "GOPROXY=file://"+proxy+",off", "GONOSUMDB="+mod.Path,
		"GOFLAGS=", "CGO_ENABLED=0", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go install: %v\n%s", err, out)
	}
	for _, prog := range []string{"cwlbuild", "cwlpatch"} {
		out, err := exec.Command(filepath.Join(gobin, prog), "--version").CombinedOutput()
		if err != nil || !strings.HasPrefix(string(out), prog+" version "+version) {
			t.Errorf("%s --version: %v %q", prog, err, out)
		}
	}
}
