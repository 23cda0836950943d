package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/eoap/cwlbuild/internal/registry/remote"
	"github.com/eoap/cwlbuild/internal/testenv"
)

// registryGet reads a manifest or blob through the registry's HTTP API, with
// basic auth: an independent check of what publish pushed.
func registryGet(t *testing.T, url, user, pass, accept string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.SetBasicAuth(user, pass)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}

// TestPublish: an unpinned workflow, and one not pinned to build.json, are
// refused with nothing pushed; a pinned one is pushed under its version and
// each --tag, and the registry serves it back byte for byte, as an OCI
// artifact whose annotations carry the version, the git revision and the
// origin remote without its credentials.
func TestPublish(t *testing.T) {
	git := testenv.LookPath(t, "git")
	reg := testenv.StartRegistry(t, "pub", "s3cret")
	dir := testenv.CopyDir(t, "../../testdata/projects/sample")
	project := filepath.Join(dir, "project.toml")
	data, _ := os.ReadFile(project)
	os.WriteFile(project, []byte(strings.ReplaceAll(string(data), "127.0.0.1:5000", reg.Host)), 0o644)
	cwlFile := filepath.Join(dir, "cwl-workflow", "app-water-bodies.cwl")
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	if _, stderr, code := runStdin(t, "s3cret", "auth", "--registry", reg.Host, "-u", "pub", "--password-stdin"); code != 0 {
		t.Fatal(stderr)
	}
	for _, args := range [][]string{
		{"init", "-q"}, {"remote", "add", "origin", "https://bot:tok3n@git.example.com/eoap/sample.git"},
		{"add", "."}, {"-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "sample"},
	} {
		cmd := exec.Command(git, args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	repo := "http://" + reg.Host + "/v2/eoap-sample/app-water-bodies"
	const accept = "application/vnd.oci.image.manifest.v1+json"

	// Unpinned: refused, every unpinned tool named, nothing pushed.
	_, stderr, code := run(t, "publish", "-f", project)
	if code != 1 || strings.Count(stderr, "not pinned by digest") != 3 || !strings.Contains(stderr, "nothing pushed") {
		t.Errorf("unpinned: exit %d\n%s", code, stderr)
	}
	if status, _ := registryGet(t, repo+"/manifests/0.1.0", "pub", "s3cret", accept); status != http.StatusNotFound {
		t.Errorf("after a refused publish the tag answers %d", status)
	}

	// Pinned, but not to build.json: refused too. The pins are images the
	// registry serves, in each tool's own repository (a release checks
	// both), in the order the tools appear in the file.
	cwl, _ := os.ReadFile(cwlFile)
	var pins []string
	for _, tool := range []string{"crop", "norm_diff", "otsu"} {
		repo := reg.Host + "/eoap-sample/" + tool
		digest, err := remote.Push(context.Background(), repo, []string{"x"}, &remote.Artifact{ArtifactType: "application/x-test", Files: []remote.File{{Data: []byte(tool), MediaType: "application/x-test"}}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		pins = append(pins, repo+"@"+digest)
	}
	n := 0
	pinned := regexp.MustCompile(`dockerPull: \S+`).ReplaceAllStringFunc(string(cwl), func(string) string {
		n++
		return "dockerPull: " + pins[n-1]
	})
	os.WriteFile(cwlFile, []byte(pinned), 0o644)
	other := fmt.Sprintf(`{"builds":[{"imageName":"%[1]s/eoap-sample/crop","tag":"%[1]s/eoap-sample/crop:x@sha256:%064d"}]}`, reg.Host, 9)
	os.WriteFile(filepath.Join(dir, "build.json"), []byte(other), 0o644)
	if _, stderr, code := run(t, "publish", "-f", project); code != 1 || !strings.Contains(stderr, "is not pinned to the images of") {
		t.Errorf("stale against build.json: exit %d\n%s", code, stderr)
	}
	os.Remove(filepath.Join(dir, "build.json"))

	stdout, stderr, code := run(t, "publish", "-f", project, "--tag", "latest")
	if code != 0 {
		t.Fatalf("publish: exit %d\n%s", code, stderr)
	}
	refs := strings.Fields(stdout)
	if len(refs) != 2 || !strings.HasPrefix(refs[0], reg.Host+"/eoap-sample/app-water-bodies:0.1.0@sha256:") || !strings.Contains(refs[1], ":latest@") {
		t.Fatalf("printed %q", stdout)
	}
	digest := refs[0][strings.Index(refs[0], "@")+1:]
	for _, tag := range []string{"0.1.0", "latest", digest} {
		status, body := registryGet(t, repo+"/manifests/"+tag, "pub", "s3cret", accept)
		if status != http.StatusOK {
			t.Fatalf("manifest %s: %d %s", tag, status, body)
		}
		var m struct {
			ArtifactType string `json:"artifactType"`
			Config       struct{ MediaType string }
			Layers       []struct {
				MediaType   string
				Digest      string
				Annotations map[string]string
			}
			Annotations map[string]string
		}
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatal(err)
		}
		if m.ArtifactType != "application/cwl" || m.Config.MediaType != "application/vnd.oci.empty.v1+json" || len(m.Layers) != 1 ||
			m.Layers[0].MediaType != "application/cwl+yaml" || m.Layers[0].Annotations["org.opencontainers.image.title"] != "app-water-bodies.cwl" {
			t.Errorf("manifest %s: %s", tag, body)
		}
		head, _ := exec.Command(git, "-C", dir, "rev-parse", "HEAD").Output()
		want := map[string]string{
			"org.opencontainers.image.version":  "0.1.0",
			"org.opencontainers.image.revision": strings.TrimSpace(string(head)),
			"org.opencontainers.image.source":   "https://git.example.com/eoap/sample.git",
		}
		for k, v := range want {
			if m.Annotations[k] != v {
				t.Errorf("annotation %s = %q, want %q", k, m.Annotations[k], v)
			}
		}
		status, blob := registryGet(t, repo+"/blobs/"+m.Layers[0].Digest, "pub", "s3cret", "")
		if status != http.StatusOK || string(blob) != pinned {
			t.Errorf("the published file differs from the one on disk (%d, %d bytes)", status, len(blob))
		}
	}
	if strings.Contains(stdout+stderr, "tok3n") {
		t.Error("a credential of the git remote was printed")
	}
}
