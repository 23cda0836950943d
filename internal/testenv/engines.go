package testenv

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Images scripts/setup.sh makes in local containers storage; the
// executor's tag is the version scripts/kaniko/go.mod builds, as setup.sh
// and cluster.sh read it.
const BaseImage = "docker.io/library/busybox:1.36"

// BaseImageArm64 is the same base for linux/arm64, which scripts/setup.sh
// makes from Debian's arm64 busybox.
const BaseImageArm64 = "localhost/cwlbuild/busybox:1.36-arm64"

var KanikoImage = "localhost/cwlbuild/kaniko:" + kanikoVersion()

// kanikoVersion is the Kaniko module scripts/kaniko/go.mod requires.
func kanikoVersion() string {
	data, _ := os.ReadFile(filepath.Join(ModuleRoot(), "scripts", "kaniko", "go.mod"))
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "require" && f[1] == "github.com/chainguard-dev/kaniko" {
			return f[2]
		}
	}
	return "unknown"
}

// Registry is a real registry (Debian's docker-registry, the distribution
// project) serving plain HTTP on a free 127.0.0.1 port for one test.
type Registry struct {
	Host  string // 127.0.0.1:PORT
	Dir   string // its storage
	creds string // user:password when it requires a login
}

// StartRegistry starts a registry that lives as long as the test. With a
// user and password it requires them (htpasswd basic auth).
func StartRegistry(t testing.TB, userPass ...string) *Registry {
	t.Helper()
	bin := LookPath(t, "docker-registry")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	host := l.Addr().String()
	l.Close()
	dir := t.TempDir()
	conf := filepath.Join(dir, "config.yml")
	os.WriteFile(conf, []byte(fmt.Sprintf(`version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
http:
  addr: %s
%s`, filepath.Join(dir, "data"), host, authConfig(t, dir, userPass))), 0o644)
	cmd := exec.Command(bin, "serve", conf)
	logf, _ := os.Create(filepath.Join(dir, "registry.log"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		logf.Close()
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get("http://" + host + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnauthorized {
				break
			}
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "registry.log"))
			t.Fatalf("registry on %s did not start: %v\n%s", host, err, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return &Registry{Host: host, Dir: dir, creds: strings.Join(userPass, ":")}
}

// PushBase copies the busybox base image from local storage into the
// registry as HOST/library/busybox:1.36, for builders (Kaniko) that pull
// base images from a registry: they reach it through a registry map from
// docker.io.
func (r *Registry) PushBase(t testing.TB) {
	t.Helper()
	r.PushLocal(t, BaseImage, "library/busybox:1.36")
}

// PushBaseIndex pushes the base for linux/amd64 and linux/arm64 as one
// index, HOST/library/busybox:1.36, with both images, and returns its
// reference by digest.
func (r *Registry) PushBaseIndex(t testing.TB) string {
	t.Helper()
	return r.PushBaseIndexAs(t, "library/busybox:1.36")
}

// PushBaseIndexAs is PushBaseIndex to HOST/PATH.
func (r *Registry) PushBaseIndexAs(t testing.TB, path string) string {
	t.Helper()
	RequireImage(t, BaseImage)
	RequireImage(t, BaseImageArm64)
	buildah := LookPath(t, "buildah")
	list := fmt.Sprintf("localhost/cwlbuild-test/base-index-%d", time.Now().UnixNano())
	for _, args := range [][]string{
		{"manifest", "create", list},
		{"manifest", "add", list, "containers-storage:" + BaseImage},
		{"manifest", "add", list, "containers-storage:" + BaseImageArm64},
	} {
		if out, err := exec.Command(buildah, args...).CombinedOutput(); err != nil {
			t.Fatalf("buildah %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	args := []string{"manifest", "push", "--all", "--rm", "--tls-verify=false"}
	if r.creds != "" {
		args = append(args, "--creds", r.creds)
	}
	dst := r.Host + "/" + path
	if out, err := exec.Command(buildah, append(args, list, "docker://"+dst)...).CombinedOutput(); err != nil {
		t.Fatalf("buildah manifest push %s: %v\n%s", dst, err, out)
	}
	repo, _, _ := strings.Cut(path, ":")
	return r.Host + "/" + repo + "@" + r.Digest(t, dst)
}

// RequireEmulation makes sure this kernel runs arm64 programs (QEMU
// registered in binfmt_misc, as scripts/setup.sh does).
func RequireEmulation(t testing.TB) {
	t.Helper()
	data, err := os.ReadFile("/proc/sys/fs/binfmt_misc/qemu-aarch64")
	if err != nil || !strings.HasPrefix(string(data), "enabled") {
		Missing(t, "arm64 emulation (QEMU in binfmt_misc: scripts/setup.sh registers it)", err)
	}
}

// PushLocal copies an image of local storage into the registry as
// HOST/PATH and returns HOST/PATH@DIGEST.
func (r *Registry) PushLocal(t testing.TB, image, path string) string {
	t.Helper()
	RequireImage(t, image)
	skopeo := LookPath(t, "skopeo")
	dst := "docker://" + r.Host + "/" + path
	args := []string{"copy", "--quiet", "--dest-tls-verify=false"}
	if r.creds != "" {
		args = append(args, "--dest-creds", r.creds)
	}
	if out, err := exec.Command(skopeo, append(args, "containers-storage:"+image, dst)...).CombinedOutput(); err != nil {
		t.Fatalf("skopeo copy %s: %v\n%s", dst, err, out)
	}
	repo, _, _ := strings.Cut(path, ":")
	return r.Host + "/" + repo + "@" + r.Digest(t, r.Host+"/"+path)
}

// Digest asks the registry for an image's manifest digest with skopeo,
// independently of the code under test.
func (r *Registry) Digest(t testing.TB, image string) string {
	t.Helper()
	return ServedDigest(t, image, r.creds)
}

// ServedDigest asks a registry reached over plain HTTP for an image's
// manifest digest with skopeo, logging in with creds ("user:password")
// when not "".
func ServedDigest(t testing.TB, image, creds string) string {
	t.Helper()
	skopeo := LookPath(t, "skopeo")
	args := []string{"inspect", "--tls-verify=false", "--format", "{{.Digest}}"}
	if creds != "" {
		args = append(args, "--creds", creds)
	}
	out, err := exec.Command(skopeo, append(args, "docker://"+image)...).CombinedOutput()
	if err != nil {
		t.Fatalf("skopeo inspect %s: %v\n%s", image, err, out)
	}
	return strings.TrimSpace(string(out))
}

// Labels reads an image's labels from its config in the registry, with
// skopeo, independently of the code under test.
func (r *Registry) Labels(t testing.TB, image string) map[string]string {
	t.Helper()
	return ImageLabels(t, image, r.creds)
}

// ImageLabels reads the labels of an image in a registry reached over plain
// HTTP, logging in with creds ("user:password") when not "".
func ImageLabels(t testing.TB, image, creds string) map[string]string {
	t.Helper()
	skopeo := LookPath(t, "skopeo")
	args := []string{"inspect", "--tls-verify=false", "--config"}
	if creds != "" {
		args = append(args, "--creds", creds)
	}
	out, err := exec.Command(skopeo, append(args, "docker://"+image)...).Output()
	if err != nil {
		t.Fatalf("skopeo inspect --config %s: %v", image, err)
	}
	var cfg struct {
		Config struct{ Labels map[string]string }
	}
	if err := json.Unmarshal(out, &cfg); err != nil {
		t.Fatalf("%s: config: %v", image, err)
	}
	return cfg.Config.Labels
}

var imageChecks sync.Map

// RequireImage skips (fails under CI) unless local containers storage holds
// image, which scripts/setup.sh makes.
func RequireImage(t testing.TB, image string) {
	t.Helper()
	podman := LookPath(t, "podman")
	ok, seen := imageChecks.Load(image)
	if !seen {
		ok = exec.Command(podman, "image", "exists", image).Run() == nil
		imageChecks.Store(image, ok)
	}
	if !ok.(bool) {
		Missing(t, "image "+image, fmt.Errorf("not in local containers storage"))
	}
}

// BuildBinary builds a main package of this module, statically, into a
// temporary directory: for running it inside a container or as the program
// Skaffold's custom builder calls.
func BuildBinary(t testing.TB, pkg string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = ModuleRoot()
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, msg)
	}
	return out
}

func authConfig(t testing.TB, dir string, userPass []string) string {
	if len(userPass) != 2 {
		return ""
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(userPass[1]), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "htpasswd")
	os.WriteFile(file, []byte(userPass[0]+":"+string(hash)+"\n"), 0o600)
	return fmt.Sprintf("auth:\n  htpasswd:\n    realm: test\n    path: %s\n", file)
}

// DockerShim returns a directory to put first on PATH so that cwltool's
// `docker` calls reach podman. Test registries listen on random loopback
// ports that registries.conf does not list, so pulls skip TLS, as Docker does
// for loopback registries.
func DockerShim(t testing.TB) string {
	t.Helper()
	LookPath(t, "podman")
	dir := t.TempDir()
	script := "#!/bin/sh\nif [ \"$1\" = pull ]; then shift; exec podman pull --tls-verify=false \"$@\"; fi\nexec podman \"$@\"\n"
	if err := os.WriteFile(filepath.Join(dir, "docker"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// CWLToolImage is what cwltool resolves for one CommandLineTool it would
// run: the tool's id, the steps leading to it, and its DockerRequirement.
type CWLToolImage struct {
	Ref           string   `json:"ref"`
	Via           []string `json:"via"`
	ID            string   `json:"id"`
	DockerPull    *string  `json:"dockerPull"`
	DockerImageID *string  `json:"dockerImageId"`
	// Image is what cwltool runs: dockerImageId when set, else dockerPull.
	Image *string `json:"image"`
	// Label is the process's label, which a test can use to name it.
	Label *string `json:"label"`
}

// CWLToolPackage is one package for CWLToolBatch: its directory and the
// references (FILE or FILE#ID, relative to it) to load.
type CWLToolPackage struct {
	Dir  string   `json:"dir"`
	Refs []string `json:"refs"`
}

// CWLToolAnswer is cwltool's answer for one package: the images, or why it
// could not load the package.
type CWLToolAnswer struct {
	Dir    string         `json:"dir"`
	Images []CWLToolImage `json:"images"`
	Error  string         `json:"error"`
}

// CWLToolBatch is CWLToolImages for many packages in one cwltool process
// (importing cwltool costs a second or two): a package cwltool cannot load
// has its error in its answer, in the order given.
func CWLToolBatch(t testing.TB, pkgs []CWLToolPackage) []CWLToolAnswer {
	t.Helper()
	in, err := json.Marshal(pkgs)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(cwltoolPython(t), filepath.Join(ModuleRoot(), "scripts", "cwltool-images.py"), "--batch")
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("cwltool-images.py --batch: %v\n%s", err, stderr.String())
	}
	var answers []CWLToolAnswer
	if err := json.Unmarshal(out, &answers); err != nil || len(answers) != len(pkgs) {
		t.Fatalf("cwltool-images.py --batch: %d answers for %d packages: %v", len(answers), len(pkgs), err)
	}
	return answers
}

// CWLToolImages loads each reference (FILE or FILE#ID, relative to dir)
// with cwltool's own loader and returns the image every CommandLineTool it
// runs would use (scripts/cwltool-images.py), so a test can check pins as
// cwltool resolves them, not as our parser does.
func CWLToolImages(t testing.TB, dir string, refs ...string) []CWLToolImage {
	t.Helper()
	python := cwltoolPython(t)
	cmd := exec.Command(python, append([]string{filepath.Join(ModuleRoot(), "scripts", "cwltool-images.py")}, refs...)...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("cwltool-images.py %v: %v\n%s", refs, err, stderr.String())
	}
	var images []CWLToolImage
	if err := json.Unmarshal(out, &images); err != nil {
		t.Fatalf("cwltool-images.py output: %v\n%s", err, out)
	}
	return images
}

// cwltoolPython is the interpreter of the cwltool on PATH (its #! line):
// the one Python that can import cwltool.
func cwltoolPython(t testing.TB) string {
	t.Helper()
	exe := LookPath(t, "cwltool")
	f, err := os.Open(exe)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	line, _ := bufio.NewReader(f).ReadString('\n')
	fields := strings.Fields(strings.TrimPrefix(line, "#!"))
	if len(fields) == 0 {
		t.Fatalf("%s has no #! line naming its Python", exe)
	}
	if filepath.Base(fields[0]) == "env" && len(fields) > 1 {
		return LookPath(t, fields[1])
	}
	return fields[0]
}
