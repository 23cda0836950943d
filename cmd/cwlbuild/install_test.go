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
	proxy := moduleProxy(t)
	gobin := t.TempDir()
	cmd := exec.Command("go", "install", modulePath+"/cmd/cwlbuild@"+proxyVersion, modulePath+"/cmd/cwlpatch@"+proxyVersion)
	cmd.Dir = t.TempDir() // outside any module
	cmd.Env = append(os.Environ(), proxy.env(gobin)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go install: %v\n%s", err, out)
	}
	for _, prog := range []string{"cwlbuild", "cwlpatch"} {
		out, err := exec.Command(filepath.Join(gobin, prog), "--version").CombinedOutput()
		if err != nil || !strings.HasPrefix(string(out), prog+" version "+proxyVersion) {
			t.Errorf("%s --version: %v %q", prog, err, out)
		}
	}
}

const (
	modulePath = "github.com/eoap/cwlbuild"
	// proxyVersion is the only version moduleProxy serves, so @latest
	// resolves to it.
	proxyVersion = "v1.0.0-test"
)

// goProxy is a module proxy on disk serving this repository, and a module
// cache of its own.
type goProxy struct{ dir, modcache, downloads string }

// env is what the go command needs to install from the proxy alone, into
// gobin, statically. The module cache is a fresh one: the shared cache
// would serve an earlier run's commit under the same version. The
// dependencies come from the shared cache's downloads, itself a proxy on
// disk, so nothing is fetched from the network; and the checksum database
// is not asked either (the machine may have no network, and both proxies
// are this machine's own).
func (p goProxy) env(gobin string) []string {
	return []string{"GOBIN=" + gobin, "GOMODCACHE=" + p.modcache,
		"GOPROXY=file://" + p.dir + ",file://" + p.downloads + ",off", "GOSUMDB=off",
		"GOFLAGS=-modcacherw", "CGO_ENABLED=0", "GOWORK=off"}
}

// moduleProxy writes a module proxy on disk holding this repository's
// committed HEAD (git archive, without nested modules, as the module proxy
// would serve a tag) as proxyVersion.
func moduleProxy(t *testing.T) goProxy {
	t.Helper()
	testenv.RealEngine(t)
	testenv.LookPath(t, "git")
	mod := module.Version{Path: modulePath, Version: proxyVersion}
	proxy := t.TempDir()
	at := filepath.Join(proxy, "github.com", "eoap", "cwlbuild", "@v")
	if err := os.MkdirAll(at, 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(at, proxyVersion+".zip"))
	if err != nil {
		t.Fatal(err)
	}
	if err := zip.CreateFromVCS(f, mod, testenv.ModuleRoot(), "HEAD", ""); err != nil {
		t.Fatal(err)
	}
	f.Close()
	gomod, err := exec.Command("git", "-C", testenv.ModuleRoot(), "show", "HEAD:go.mod").Output()
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(at, proxyVersion+".mod"), gomod, 0o644)
	os.WriteFile(filepath.Join(at, proxyVersion+".info"), []byte(`{"Version":"`+proxyVersion+`","Time":"2026-01-01T00:00:00Z"}`), 0o644)
	os.WriteFile(filepath.Join(at, "list"), []byte(proxyVersion+"\n"), 0o644)
	modcache, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		t.Fatal(err)
	}
	return goProxy{dir: proxy, modcache: t.TempDir(), downloads: filepath.Join(strings.TrimSpace(string(modcache)), "cache", "download")}
}
