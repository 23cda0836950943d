// Package testenv finds the real engines tests run against (Skaffold from
// go.mod's tool directive, podman, buildah, cwltool...). Tests that use one
// belong to the full tier, `go test ./...`, where a missing engine fails the
// test (scripts/setup.sh installs them all); `go test -short ./...` skips
// them and stays hermetic.
package testenv

import (
	"fmt"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"

	"github.com/eoap/cwlbuild/internal/atomicfile"
)

var (
	skaffoldOnce sync.Once
	skaffoldPath string
	skaffoldErr  error
)

// RealEngine marks a test that runs a real engine (a registry, Skaffold,
// podman, cwltool...): it belongs to the full tier, `go test ./...`, and is
// skipped by `go test -short ./...`, which stays hermetic and fast.
func RealEngine(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("runs a real engine: not part of the -short tier")
	}
}

// Missing fails t for an engine that is not installed: the full tier never
// skips one silently (the -short tier never gets here; see RealEngine).
func Missing(t testing.TB, what string, err error) {
	t.Helper()
	t.Fatalf("%s is not available (scripts/setup.sh installs it; go test -short ./... runs without the real engines): %v", what, err)
}

// MissingFile is where Optional lists, one line each, the tests it could
// not run, for `go tool task test` to sum up at its end.
const MissingFile = ".cwlbuild-missing"

// Optional is Missing for a part only some machines can make (the
// Calrissian image needs its source tarball): under CI (CI set and not
// "false") it fails t, as Missing does, never skipping silently; elsewhere
// it skips t, and lists it with the command that makes the part in
// MissingFile at the module root.
func Optional(t testing.TB, what, fix string) {
	t.Helper()
	if ci := os.Getenv("CI"); ci != "" && ci != "false" {
		Missing(t, what, fmt.Errorf("make it with %s", fix))
		return
	}
	line := fmt.Sprintf("%s: %s is not available; make it with: %s\n", t.Name(), what, fix)
	if f, err := os.OpenFile(filepath.Join(ModuleRoot(), MissingFile), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
		f.WriteString(line)
		f.Close()
	}
	t.Skip(strings.TrimSuffix(line, "\n"))
}

// ModuleRoot is the directory holding go.mod.
func ModuleRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// Skaffold returns the path of the Skaffold binary pinned in scripts/skaffold,
// building it through `go tool -n` on first use. Static, as scripts/setup.sh
// and `task bin` build it: a build with cgo would compile Skaffold's whole
// tree a second time (every package above net differs), about ten minutes on
// a cold machine.
func Skaffold(t testing.TB) string {
	t.Helper()
	RealEngine(t)
	skaffoldOnce.Do(func() {
		cmd := exec.Command("go", "tool", "-n", "skaffold")
		cmd.Dir = filepath.Join(ModuleRoot(), "scripts", "skaffold")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		out, err := cmd.Output()
		skaffoldPath, skaffoldErr = strings.TrimSpace(string(out)), err
	})
	if skaffoldErr != nil {
		Missing(t, "skaffold (go tool skaffold)", skaffoldErr)
	}
	return skaffoldPath
}

// Cosign returns the path of the cosign CLI pinned in scripts/cosign (the
// independent verifier of signatures), building it on first use.
func Cosign(t testing.TB) string {
	t.Helper()
	return nestedTool(t, "cosign", "github.com/sigstore/cosign/v2/cmd/cosign")
}

// Cosign3 returns the path of the cosign v3 CLI pinned in scripts/cosign3,
// the verifier that reads the Sigstore bundle format (an OCI 1.1
// referrer) as well as the legacy tags, building it on first use.
func Cosign3(t testing.TB) string {
	t.Helper()
	return nestedTool(t, "cosign3", "github.com/sigstore/cosign/v3/cmd/cosign")
}

// Act returns the path of nektos/act pinned in scripts/act (it runs GitHub
// Actions workflows here), building it on first use.
func Act(t testing.TB) string {
	t.Helper()
	return nestedTool(t, "act", "github.com/nektos/act")
}

// nestedTool builds the program pkg of the tools module scripts/NAME,
// once per test binary, into one place per machine (the build cache makes
// a rebuild a link).
func nestedTool(t testing.TB, name, pkg string) string {
	t.Helper()
	RealEngine(t)
	v, _ := nestedTools.LoadOrStore(name, &nestedBuild{})
	b := v.(*nestedBuild)
	b.once.Do(func() {
		dir, err := os.UserCacheDir()
		if err != nil {
			dir = os.TempDir()
		}
		b.path = filepath.Join(dir, "cwlbuild", name)
		cmd := exec.Command("go", "build", "-o", b.path, pkg)
		cmd.Dir = filepath.Join(ModuleRoot(), "scripts", name)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("%v\n%s", err, out)
		}
	})
	if b.err != nil {
		Missing(t, name+" (scripts/"+name+")", b.err)
	}
	return b.path
}

type nestedBuild struct {
	once sync.Once
	path string
	err  error
}

var nestedTools sync.Map

// LookPath returns the path of a program on PATH, or skips/fails t.
func LookPath(t testing.TB, prog string) string {
	t.Helper()
	RealEngine(t)
	p, err := exec.LookPath(prog)
	if err != nil {
		Missing(t, prog, err)
	}
	return p
}

// CopyDir copies a testdata tree into a fresh temporary directory, so tests
// that write (generated files, patched CWL) never touch tracked files.
func CopyDir(t testing.TB, src string) string {
	t.Helper()
	dst := t.TempDir()
	CopyTree(t, src, dst, nil)
	return dst
}

// CopyTree copies src into dst, keeping file modes, and leaves out the
// top-level entries of src named in skip (a case's control files).
func CopyTree(t testing.TB, src, dst string, skip map[string]bool) {
	t.Helper()
	err := filepath.Walk(src, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if skip[strings.Split(filepath.ToSlash(rel), "/")[0]] {
			if info.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		target := filepath.Join(dst, rel)
		if info.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, info.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
}

// StagedLeftovers lists the temporary files internal/atomicfile stages next
// to path that are still there.
func StagedLeftovers(t testing.TB, path string) []string {
	t.Helper()
	matches, err := filepath.Glob(filepath.Join(filepath.Dir(path), atomicfile.TempPrefix(path)+"*"))
	if err != nil {
		t.Fatal(err)
	}
	return matches
}

// RequireNoLeftoversAfterRun runs cmd (a fresh, complete run of the program
// that was killed) and checks that it removed every temporary file a killed
// run had left next to path.
func RequireNoLeftoversAfterRun(t testing.TB, path string, cmd *exec.Cmd) {
	t.Helper()
	before := StagedLeftovers(t, path)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("run after the kills: %v\n%s", err, out)
	}
	if after := StagedLeftovers(t, path); len(after) > 0 {
		t.Errorf("%d temporary files left by killed runs, %d still there after a complete run: %v", len(before), len(after), after)
	} else {
		t.Logf("a complete run removed the %d temporary files killed runs had left", len(before))
	}
}

// FakeWorkTree makes dir look like the top of a git work tree (a .git with
// HEAD on a branch at a fixed commit), so that what depends on being in one
// (image tags with the commit, revision labels) is the same wherever the
// tests run, in a clone or an unpacked archive.
func FakeWorkTree(t testing.TB, dir string) {
	t.Helper()
	refs := filepath.Join(dir, ".git", "refs", "heads")
	if err := os.MkdirAll(refs, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, ".git", "HEAD"), []byte("ref: refs/heads/main\n"), 0o644)
	os.WriteFile(filepath.Join(refs, "main"), []byte(strings.Repeat("c0ffee", 6)+"c0ff\n"), 0o644)
}

// MemoryRegistry serves go-containerregistry's in-memory registry on a
// loopback port (plain HTTP, as for any loopback registry) for the test,
// with the Docker config pointed at an empty directory, and returns its
// host:port. Unlike StartRegistry it runs in the fast tier: no process, no
// disk.
func MemoryRegistry(t testing.TB) string {
	t.Helper()
	return memoryRegistry(t)
}

// ReferrersRegistry is MemoryRegistry with the OCI 1.1 Referrers API,
// which MemoryRegistry, like Debian's docker-registry and GHCR, lacks:
// there referrers are found only through the sha256-HEX fallback tag.
func ReferrersRegistry(t testing.TB) string {
	t.Helper()
	return memoryRegistry(t, registry.WithReferrersSupport(true))
}

func memoryRegistry(t testing.TB, opts ...registry.Option) string {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	srv := httptest.NewServer(registry.New(append(opts, registry.Logger(log.New(io.Discard, "", 0)))...))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}
