package dockerconfig

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestKey(t *testing.T) {
	for in, want := range map[string]string{
		"docker.io":                   "https://index.docker.io/v1/",
		"index.docker.io":             "https://index.docker.io/v1/",
		"registry-1.docker.io":        "https://index.docker.io/v1/",
		"https://index.docker.io/v1/": "https://index.docker.io/v1/",
		"ghcr.io":                     "ghcr.io",
		"https://ghcr.io/":            "ghcr.io",
		"http://127.0.0.1:5000":       "127.0.0.1:5000",
		"quay.io/docker.io":           "quay.io/docker.io",
	} {
		t.Run(fmt.Sprint(in), func(t *testing.T) {
			if got := Key(in); got != want {
				t.Errorf("Key(%q) = %q, want %q", in, got, want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		c    Credential
		want string // "" for valid
	}{
		{Credential{Registry: "r", Username: "u", Password: "p"}, ""},
		{Credential{Registry: "r", IdentityToken: "t"}, ""},
		{Credential{Username: "u", Password: "p"}, "no registry"},
		{Credential{Registry: "r", Password: "p"}, "no username"},
		{Credential{Registry: "r", Username: "u"}, "no password"},
		{Credential{Registry: "r", Username: "u:v", Password: "p"}, "contains ':'"},
	} {
		t.Run(fmt.Sprint(tc), func(t *testing.T) {
			err := tc.c.Validate()
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("%+v: %v, want %q", tc.c, err, tc.want)
			}
		})
	}
}

// auths decodes a config's auths.
func auths(t *testing.T, data []byte) map[string]map[string]string {
	t.Helper()
	var cfg struct {
		Auths map[string]map[string]string `json:"auths"`
	}
	if err := json.Unmarshal(data, &cfg); err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	return cfg.Auths
}

// TestMerge: the login is added (or replaces the same registry's), every
// other registry and key stays, and every byte of the password survives.
func TestMerge(t *testing.T) {
	password := "p\"a s$s\\w:o\nrd'"
	old := []byte(`{"auths": {"other.io": {"auth": "eDp5"}, "ghcr.io": {"auth": "b2xkOm9sZA=="}}, "credHelpers": {"gcr.io": "gcloud"}}`)
	out, err := Merge(old, Credential{Registry: "https://ghcr.io/", Username: "bot", Password: password})
	if err != nil {
		t.Fatal(err)
	}
	a := auths(t, out)
	if a["other.io"]["auth"] != "eDp5" || len(a) != 2 {
		t.Errorf("other registries: %v", a)
	}
	if got, _ := base64.StdEncoding.DecodeString(a["ghcr.io"]["auth"]); string(got) != "bot:"+password {
		t.Errorf("ghcr.io auth decodes to %q", got)
	}
	if !strings.Contains(string(out), `"credHelpers"`) || !strings.HasSuffix(string(out), "}\n") {
		t.Errorf("other keys or the final line break lost:\n%s", out)
	}
	// An identity token, with and without a username.
	for _, user := range []string{"", "bot"} {
		out, err := Merge(nil, Credential{Registry: "r.io", Username: user, IdentityToken: "tok"})
		if err != nil {
			t.Fatal(err)
		}
		e := auths(t, out)["r.io"]
		want := map[string]string{"identitytoken": "tok"}
		if user != "" {
			want["auth"] = base64.StdEncoding.EncodeToString([]byte("bot:"))
		}
		if len(e) != len(want) || e["identitytoken"] != "tok" || e["auth"] != want["auth"] {
			t.Errorf("user %q: entry %v, want %v", user, e, want)
		}
	}
	for in, want := range map[string]string{
		`{"auths": null}`: "",
		"  \n":            "",
		`[1]`:             "not a Docker config file",
		`{"auths": [1]}`:  "its auths are not a JSON object",
	} {
		t.Run(fmt.Sprint(in), func(t *testing.T) {
			out, err := Merge([]byte(in), Credential{Registry: "r.io", Username: "u", Password: "p"})
			if want == "" && (err != nil || len(auths(t, out)) != 1) || want != "" && (err == nil || !strings.Contains(err.Error(), want)) {
				t.Errorf("Merge(%q): %v %s, want %q", in, err, out, want)
			}
		})
	}
}

// TestWriteFile: the file is written 0600, also over a wider one, creating
// its directory; a symlink to this user's regular file writes the target;
// a symlink to anything else, or to nothing, is refused and nothing is
// written.
func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	c := Credential{Registry: "r.io", Username: "u", Password: "p"}
	file := filepath.Join(dir, "sub", "config.json")
	if got, err := WriteFile(file, c); err != nil || got != file {
		t.Fatalf("%q %v", got, err)
	}
	os.Chmod(file, 0o644)
	if _, err := WriteFile(file, Credential{Registry: "s.io", Username: "u", Password: "p"}); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(file)
	data, _ := os.ReadFile(file)
	if st.Mode().Perm() != 0o600 || len(auths(t, data)) != 2 {
		t.Errorf("mode %v, content %s", st.Mode(), data)
	}
	link := filepath.Join(dir, "link.json")
	os.Symlink(file, link)
	if got, err := WriteFile(link, Credential{Registry: "t.io", Username: "u", Password: "p"}); err != nil || got != file {
		t.Errorf("through a symlink: %q %v", got, err)
	}
	if st, _ := os.Lstat(link); st.Mode()&os.ModeSymlink == 0 {
		t.Error("the symlink was replaced")
	}
	if data, _ := os.ReadFile(file); len(auths(t, data)) != 3 {
		t.Errorf("target not written: %s", data)
	}
	toDir := filepath.Join(dir, "dir-link")
	os.Symlink(dir, toDir)
	dangling := filepath.Join(dir, "dangling")
	os.Symlink(filepath.Join(dir, "nowhere"), dangling)
	for path, want := range map[string]string{toDir: "not a regular file of this user", dangling: "cannot be resolved"} {
		if _, err := WriteFile(path, c); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", path, err, want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "nowhere")); err == nil {
		t.Error("a dangling link's target was created")
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte("[1]"), 0o600)
	if _, err := WriteFile(bad, c); err == nil || !strings.HasPrefix(err.Error(), bad+": not a Docker config file") {
		t.Errorf("a file that is no config: %v", err)
	}
}

func TestDefaultPath(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", "/x/y")
	if got := DefaultPath(); got != "/x/y/config.json" {
		t.Errorf("with DOCKER_CONFIG: %s", got)
	}
	t.Setenv("DOCKER_CONFIG", "")
	home := t.TempDir()
	t.Setenv("HOME", home)
	want := filepath.Join(home, ".docker", "config.json")
	if st, err := os.Stat("/kaniko/.docker"); err == nil && st.IsDir() {
		want = "/kaniko/.docker/config.json"
	}
	if got := DefaultPath(); got != want {
		t.Errorf("without DOCKER_CONFIG: %s, want %s", got, want)
	}
}

// TestSecret: a dockerconfigjson Secret whose data is the merged config,
// with a namespace only when one is given.
func TestSecret(t *testing.T) {
	for _, ns := range []string{"", "eoap"} {
		out, err := Secret("kaniko-secret", ns, Credential{Registry: "r.io", Username: "u", Password: "p"})
		if err != nil {
			t.Fatal(err)
		}
		var s struct {
			APIVersion string            `yaml:"apiVersion"`
			Kind       string            `yaml:"kind"`
			Metadata   map[string]string `yaml:"metadata"`
			Type       string            `yaml:"type"`
			Data       map[string]string `yaml:"data"`
		}
		if err := yaml.Unmarshal(out, &s); err != nil {
			t.Fatal(err)
		}
		cfg, _ := base64.StdEncoding.DecodeString(s.Data[".dockerconfigjson"])
		_, hasNS := s.Metadata["namespace"]
		if s.APIVersion != "v1" || s.Kind != "Secret" || s.Type != "kubernetes.io/dockerconfigjson" || s.Metadata["name"] != "kaniko-secret" ||
			hasNS != (ns != "") || s.Metadata["namespace"] != ns || len(auths(t, cfg)) != 1 {
			t.Errorf("namespace %q:\n%s", ns, out)
		}
	}
}

// TestWriteFileHostileConfigs: a config holding `null` merges (no panic);
// a file owned by another user is refused and keeps its content; a
// non-UTF-8 identity token is refused.
func TestWriteFileHostileConfigs(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.json")
	os.WriteFile(path, []byte("null\n"), 0o600)
	cred := Credential{Registry: "r.example", Username: "u", Password: "p"}
	if _, err := WriteFile(path, cred); err != nil {
		t.Fatalf("null config: %v", err)
	}
	if data, _ := os.ReadFile(path); !strings.Contains(string(data), `"r.example"`) {
		t.Errorf("null config merged to %s", data)
	}
	if os.Geteuid() == 0 {
		other := filepath.Join(dir, "other.json")
		os.WriteFile(other, []byte("{}\n"), 0o644)
		os.Chown(other, 4242, 4242)
		if _, err := WriteFile(other, cred); err == nil || !strings.Contains(err.Error(), "not a regular file of this user") {
			t.Errorf("another user's file: %v", err)
		}
		if data, _ := os.ReadFile(other); string(data) != "{}\n" {
			t.Errorf("another user's file now holds %s", data)
		}
	}
	bad := Credential{Registry: "r.example", IdentityToken: "tok\xff\xfe"}
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "not valid UTF-8") {
		t.Errorf("non-UTF-8 token: %v", err)
	}
}

// TestWriteFileConcurrent: 20 logins to 20 registries written at once into
// one config all survive: each read-merge-rename holds the lock.
func TestWriteFileConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.json")
	var wg sync.WaitGroup
	errs := make([]error, 20)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = WriteFile(path, Credential{Registry: fmt.Sprintf("r%d.example", i), Username: "u", Password: "p"})
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	data, _ := os.ReadFile(path)
	var cfg struct{ Auths map[string]any }
	if err := json.Unmarshal(data, &cfg); err != nil || len(cfg.Auths) != 20 {
		t.Errorf("%d logins of 20 (%v):\n%s", len(cfg.Auths), err, data)
	}
}
