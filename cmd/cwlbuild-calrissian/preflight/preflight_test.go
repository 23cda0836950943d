package preflight

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eoap/cwlbuild/cmd/cwlbuild-calrissian/api"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// TestPodSpec: the pre-flight pod runs as the build's pods do: the build's
// service account, the init image waiting for what pods/exec streams in,
// the executor image running the probe, the push secret's config.json
// where Skaffold mounts it, and a deadline.
func TestPodSpec(t *testing.T) {
	s := &api.Preflight{ServiceAccount: "kaniko-sa", ExecutorImage: "exec:1", InitImage: "init:1"}
	p := podSpec(s, "push")
	if p.Spec.ServiceAccountName != "kaniko-sa" || p.Spec.RestartPolicy != "Never" || p.Spec.ActiveDeadlineSeconds == nil {
		t.Errorf("pod %+v", p.Spec)
	}
	if ic := p.Spec.InitContainers; len(ic) != 1 || ic[0].Image != "init:1" || !strings.Contains(strings.Join(ic[0].Command, " "), dir+"/.ready") {
		t.Errorf("init container %+v", ic)
	}
	c := p.Spec.Containers[0]
	if c.Image != "exec:1" || c.Command[0] != dir+"/agent" || c.Command[1] != "probe" {
		t.Errorf("container %+v", c)
	}
	var mounted bool
	for _, m := range c.VolumeMounts {
		mounted = mounted || m.MountPath == "/kaniko/.docker" && m.Name == "push-secret"
	}
	var item string
	for _, v := range p.Spec.Volumes {
		if v.Secret != nil && v.Secret.SecretName == "push" {
			item = v.Secret.Items[0].Key + "->" + v.Secret.Items[0].Path
		}
	}
	if !mounted || item != ".dockerconfigjson->config.json" {
		t.Errorf("secret mounted %v, item %q", mounted, item)
	}
	if p := podSpec(s, ""); len(p.Spec.Volumes) != 1 || len(p.Spec.Containers[0].VolumeMounts) != 1 {
		t.Error("no secret: nothing but the probe's volume")
	}
}

// TestPayloadTar: the agent first (executable), the spec, and last the file
// the init container waits for, so the agent is whole when it starts.
func TestPayloadTar(t *testing.T) {
	self := filepath.Join(t.TempDir(), "agent")
	os.WriteFile(self, []byte("binary"), 0o755)
	var buf bytes.Buffer
	if err := payloadTar(&buf, self, &api.Preflight{ExecutorImage: "e"}); err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(&buf)
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(tr)
		names = append(names, h.Name)
		if h.Name == "agent" && (h.Mode != 0o755 || string(data) != "binary") {
			t.Errorf("agent: mode %o, %q", h.Mode, data)
		}
		if h.Name == "spec.json" && !strings.Contains(string(data), `"executorImage":"e"`) {
			t.Errorf("spec %s", data)
		}
	}
	if strings.Join(names, " ") != "agent spec.json .ready" {
		t.Errorf("entries %v", names)
	}
}

// TestStatic: the agent must be static to run in the executor image; a
// dynamically linked program is refused with how to get a static one.
func TestStatic(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	_ = static(self) // a test binary may be either
	for _, p := range []string{"/bin/ls", "/usr/bin/ls"} {
		if _, err := os.Stat(p); err != nil {
			continue
		}
		if err := static(p); err == nil || !strings.Contains(err.Error(), "CGO_ENABLED=0") {
			t.Errorf("%s: %v, want a dynamically linked program refused", p, err)
		}
		return
	}
	t.Skip("no dynamically linked ls here")
}

func TestResultString(t *testing.T) {
	if got := (api.Result{Check: "push", OK: true, Detail: "d"}).String(); got != "ok    push: d" {
		t.Errorf("%q", got)
	}
	if got := (api.Result{Check: "push", Detail: "d"}).String(); got != "FAIL  push: d" {
		t.Errorf("%q", got)
	}
}

// TestPushAndBase against an in-memory registry (go-containerregistry's):
// a push is one blob uploaded, and refused with a clear cause when the
// registry wants a login the config does not hold; a base image resolves
// through the first reference that answers.
func TestPushAndBase(t *testing.T) {
	reg := httptest.NewServer(registry.New())
	defer reg.Close()
	locked := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", `Basic realm="x"`)
		http.Error(w, "login", http.StatusUnauthorized)
	}))
	defer locked.Close()
	host := strings.TrimPrefix(reg.URL, "http://")
	lockedHost := strings.TrimPrefix(locked.URL, "http://")
	t.Setenv("DOCKER_CONFIG", t.TempDir()) // no login at all
	s := &api.Preflight{Insecure: []string{host, lockedHost}}
	ctx := context.Background()

	if r := push(ctx, s, api.Push{Tool: "a", Repository: host + "/p/a"}); !r.OK || !strings.Contains(r.Detail, "pushes") {
		t.Errorf("push: %v", r)
	}
	if r := push(ctx, s, api.Push{Repository: lockedHost + "/p/cache"}); r.OK || !strings.HasPrefix(r.Check, "cache repository") || !strings.Contains(r.Detail, "401") {
		t.Errorf("push to a registry that wants a login: %v", r)
	}

	img, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := name.ParseReference(host+"/mirror/busybox:1", name.Insecure)
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	b := api.Base{Tool: "a", Image: "docker.io/library/busybox:1", Pull: []string{host + "/nothing/busybox:1", host + "/mirror/busybox:1", "docker.io/library/busybox:1"}}
	if r := base(ctx, s, b); !r.OK || !strings.Contains(r.Detail, "through "+host+"/mirror/busybox:1") {
		t.Errorf("base: %v", r)
	}
	b.Pull = b.Pull[:1]
	if r := base(ctx, s, b); r.OK || !strings.Contains(r.Detail, "does not resolve") || !strings.Contains(r.Detail, "404") {
		t.Errorf("missing base: %v", r)
	}
}
