package job

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/eoap/cwlbuild/cmd/cwlbuild-calrissian/api"
	corev1 "k8s.io/api/core/v1"
)

type entry struct {
	name     string
	typeflag byte
	body     string
}

func tarOf(t *testing.T, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Typeflag: e.typeflag, Mode: 0o600, Size: int64(len(e.body))}
		if e.typeflag != tar.TypeReg {
			h.Size = 0
			h.Linkname = "/etc/passwd"
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if e.typeflag == tar.TypeReg {
			tw.Write([]byte(e.body))
		}
	}
	tw.Close()
	return buf.Bytes()
}

func names(t *testing.T, data []byte) map[string]string {
	t.Helper()
	out := map[string]string{}
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(tr)
		out[h.Name] = string(body)
		if h.Typeflag == tar.TypeReg && h.Mode&0o444 != 0o444 {
			t.Errorf("%s: mode %o, want it readable by the tools' users", h.Name, h.Mode)
		}
	}
}

// TestRenamePrefixesAndFilters: what enters the volume and what comes back
// stays under the run's directory, and only files and directories pass.
func TestRenamePrefixesAndFilters(t *testing.T) {
	in := tarOf(t,
		entry{"./a/", tar.TypeDir, ""},
		entry{"./a/b.txt", tar.TypeReg, "b"},
		entry{"c.json", tar.TypeReg, "{}"},
		entry{"link", tar.TypeSymlink, ""},
		entry{"hard", tar.TypeLink, ""},
		entry{"fifo", tar.TypeFifo, ""},
	)
	var out bytes.Buffer
	tw := tar.NewWriter(&out)
	n := &counter{}
	if err := rename(bytes.NewReader(in), tw, "run-1", n); err != nil {
		t.Fatal(err)
	}
	tw.Close()
	got := names(t, out.Bytes())
	want := map[string]string{"run-1/": "", "run-1/a/": "", "run-1/a/b.txt": "b", "run-1/c.json": "{}"}
	if len(got) != len(want) {
		t.Errorf("entries %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %q, want %q (all: %v)", k, got[k], v, got)
		}
	}
	if n.files != 2 || n.skipped != 3 || n.bytes != 3 {
		t.Errorf("counted %+v, want 2 files, 3 bytes, 3 skipped", *n)
	}
	for _, bad := range []string{"../up", "/etc/passwd", "a/../../up"} {
		var sink bytes.Buffer
		err := rename(bytes.NewReader(tarOf(t, entry{bad, tar.TypeReg, "x"})), tar.NewWriter(&sink), "run-1", &counter{})
		if err == nil || !strings.Contains(err.Error(), "leaves the run directory") {
			t.Errorf("%s: %v, want it refused", bad, err)
		}
	}
}

// TestTrouble: an image that cannot be pulled is trouble at once, in the
// init container (Calrissian's tool pods have one) as in the main one; a
// pod still creating is not.
func TestTrouble(t *testing.T) {
	waiting := func(reason string) corev1.ContainerStatus {
		return corev1.ContainerStatus{Image: "reg/tool@sha256:1", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: "not found"}}}
	}
	for _, tc := range []struct {
		pod  corev1.Pod
		want string
	}{
		{corev1.Pod{Status: corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{waiting("ImagePullBackOff")}}}, "ImagePullBackOff: image reg/tool@sha256:1: not found"},
		{corev1.Pod{Status: corev1.PodStatus{InitContainerStatuses: []corev1.ContainerStatus{waiting("ErrImagePull")}}}, "ErrImagePull: image reg/tool@sha256:1: not found"},
		{corev1.Pod{Status: corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{waiting("ContainerCreating")}}}, ""},
		{corev1.Pod{}, ""},
	} {
		if got := trouble(&tc.pod); got != tc.want {
			t.Errorf("trouble = %q, want %q", got, tc.want)
		}
	}
}

// TestSpecJSON: durations read as cwlbuild writes them; a misspelt key is
// an error, not a default.
func TestSpecJSON(t *testing.T) {
	var s api.Job
	if err := json.Unmarshal([]byte(`{"name":"r","image":"i:1","startTimeout":"90s","timeout":"1h0m0s","args":["--x"]}`), &s); err != nil {
		t.Fatal(err)
	}
	if time.Duration(s.StartTimeout) != 90*time.Second || time.Duration(s.Timeout) != time.Hour {
		t.Errorf("durations %v %v", time.Duration(s.StartTimeout), time.Duration(s.Timeout))
	}
	data, _ := json.Marshal(s)
	if !strings.Contains(string(data), `"startTimeout":"1m30s"`) {
		t.Errorf("marshalled %s", data)
	}
	if err := json.Unmarshal([]byte(`{"timeout":"soon"}`), &s); err == nil {
		t.Error(`timeout "soon" was accepted`)
	}
}

// TestSecretRegistries: the hosts of a pull secret's logins, in both
// Docker config formats, Docker Hub's keys under one name.
func TestSecretRegistries(t *testing.T) {
	for _, tc := range []struct {
		secret corev1.Secret
		want   string
	}{
		{corev1.Secret{Type: corev1.SecretTypeDockerConfigJson, Data: map[string][]byte{corev1.DockerConfigJsonKey: []byte(`{"auths": {"ghcr.io": {}, "https://index.docker.io/v1/": {}, "10.0.0.1:5002": {}}}`)}}, "10.0.0.1:5002 docker.io ghcr.io"},
		{corev1.Secret{Type: corev1.SecretTypeDockercfg, Data: map[string][]byte{corev1.DockerConfigKey: []byte(`{"https://quay.io": {}}`)}}, "quay.io"},
	} {
		got, err := secretRegistries(&tc.secret)
		if err != nil || strings.Join(got, " ") != tc.want {
			t.Errorf("%s: %q, %v; want %q", tc.secret.Type, got, err, tc.want)
		}
	}
	if _, err := secretRegistries(&corev1.Secret{Type: corev1.SecretTypeOpaque}); err == nil {
		t.Error("an Opaque secret read as a Docker config")
	}
}
