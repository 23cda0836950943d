package main

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// decodeAuth returns user and password of a registry in a config.json.
func decodeAuth(t *testing.T, data []byte, registry string) (string, string) {
	t.Helper()
	var cfg struct {
		Auths map[string]struct{ Auth string } `json:"auths"`
	}
	if err := json.Unmarshal(data, &cfg); err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	raw, err := base64.StdEncoding.DecodeString(cfg.Auths[registry].Auth)
	if err != nil {
		t.Fatal(err)
	}
	user, pass, _ := strings.Cut(string(raw), ":")
	return user, pass
}

var hostilePasswords = []string{
	`it's "quoted"`,
	`spaces and $HOME and $(rm -rf /) and ${X}`,
	"line one\nline two",
	`back\slash\n not a newline`,
	"tab\there;|&<>*?",
}

func TestAuthMergesAndKeepsPrivate(t *testing.T) {
	file := filepath.Join(t.TempDir(), "config.json")
	other := `{"auths":{"ghcr.io":{"auth":"b3RoZXI6c2VjcmV0"}},"credHelpers":{"gcr.io":"gcloud"}}`
	os.WriteFile(file, []byte(other), 0o644)
	for _, pw := range hostilePasswords {
		stdout, stderr, code := runStdin(t, pw+"\n", "auth", "--registry", "registry.example.org", "--username", "bot", "--password-stdin", "-o", file)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		if strings.Contains(stdout+stderr, pw) || strings.Contains(stdout+stderr, base64.StdEncoding.EncodeToString([]byte("bot:"+pw))) {
			t.Errorf("the password was printed: %s%s", stdout, stderr)
		}
		data, _ := os.ReadFile(file)
		if user, got := decodeAuth(t, data, "registry.example.org"); user != "bot" || got != pw {
			t.Errorf("round trip: %q %q, want bot %q", user, got, pw)
		}
		if user, _ := decodeAuth(t, data, "ghcr.io"); user != "other" || !strings.Contains(string(data), `"gcr.io": "gcloud"`) {
			t.Errorf("other entries lost:\n%s", data)
		}
		if st, _ := os.Stat(file); st.Mode().Perm() != 0o600 {
			t.Errorf("mode %v, want 0600", st.Mode().Perm())
		}
	}
}

func TestAuthFromGitLabEnvironment(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("DOCKER_CONFIG", dir)
	t.Setenv("CI_REGISTRY", "registry.gitlab.example")
	t.Setenv("CI_REGISTRY_USER", "gitlab-ci-token")
	t.Setenv("CI_REGISTRY_PASSWORD", hostilePasswords[1])
	if _, stderr, code := run(t, "auth"); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	data, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if user, pw := decodeAuth(t, data, "registry.gitlab.example"); user != "gitlab-ci-token" || pw != hostilePasswords[1] {
		t.Errorf("got %q %q", user, pw)
	}
}

func TestAuthDockerHubKeyAndToken(t *testing.T) {
	file := filepath.Join(t.TempDir(), "config.json")
	if _, stderr, code := runStdin(t, "tok.en\n", "auth", "--registry", "docker.io", "--token-stdin", "-o", file); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	data, _ := os.ReadFile(file)
	if !strings.Contains(string(data), `"https://index.docker.io/v1/"`) || !strings.Contains(string(data), `"identitytoken": "tok.en"`) {
		t.Errorf("config:\n%s", data)
	}
}

func TestAuthSecretManifest(t *testing.T) {
	pw := hostilePasswords[2]
	stdout, stderr, code := runStdin(t, pw, "auth", "--registry", "ghcr.io", "-u", "bot", "--password-stdin", "--secret", "kaniko-secret", "-n", "eoap")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var secret struct {
		Kind     string
		Type     string
		Metadata map[string]string
		Data     map[string]string
	}
	if err := yaml.Unmarshal([]byte(stdout), &secret); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	if secret.Kind != "Secret" || secret.Type != "kubernetes.io/dockerconfigjson" || secret.Metadata["name"] != "kaniko-secret" || secret.Metadata["namespace"] != "eoap" {
		t.Errorf("manifest:\n%s", stdout)
	}
	cfg, err := base64.StdEncoding.DecodeString(secret.Data[".dockerconfigjson"])
	if err != nil {
		t.Fatal(err)
	}
	if user, got := decodeAuth(t, cfg, "ghcr.io"); user != "bot" || got != pw {
		t.Errorf("secret holds %q %q", user, got)
	}
	if strings.Contains(stdout+stderr, pw) {
		t.Error("the password appears in clear")
	}
}

func TestAuthErrors(t *testing.T) {
	t.Setenv("CI_REGISTRY_PASSWORD", "")
	for _, args := range [][]string{
		{"auth", "--username", "u", "--password-stdin"},
		{"auth", "--registry", "r", "--password-stdin"},
		{"auth", "--registry", "r", "--username", "u"},
		{"auth", "--registry", "r", "--username", "a:b", "--password-stdin"},
	} {
		if _, stderr, code := runStdin(t, "pw", args...); code == 0 || stderr == "" {
			t.Errorf("%v: exit %d, %q", args, code, stderr)
		}
	}
}

// TestAuthStdinEdges: a secret over 1 MiB is refused (never cut to a valid
// looking one); only "\n" or "\r\n" is taken off the end, a lone "\r" is
// part of the secret.
func TestAuthStdinEdges(t *testing.T) {
	file := filepath.Join(t.TempDir(), "config.json")
	args := []string{"auth", "--registry", "r.example", "--username", "bot", "--password-stdin", "-o", file}
	_, stderr, code := runStdin(t, strings.Repeat("x", 1<<20+1), args...)
	if code != 1 || !strings.Contains(stderr, "more than 1048576 bytes") {
		t.Errorf("oversized: exit %d %s", code, stderr)
	}
	if _, err := os.Stat(file); err == nil {
		t.Error("an oversized secret was written")
	}
	for in, want := range map[string]string{"pw\r": "pw\r", "pw\r\n": "pw", "pw\n": "pw", "pw\n\n": "pw\n", strings.Repeat("y", 1<<20): strings.Repeat("y", 1<<20)} {
		if _, stderr, code := runStdin(t, in, args...); code != 0 {
			t.Fatalf("%q: exit %d %s", in, code, stderr)
		}
		data, _ := os.ReadFile(file)
		if _, got := decodeAuth(t, data, "r.example"); got != want {
			t.Errorf("stdin %q: password %q, want %q", in[:min(len(in), 8)], got[:min(len(got), 8)], want[:min(len(want), 8)])
		}
	}
}

// TestAuthSymlinkedConfig: a config.json that is a symlink is written
// through to its target only when that is a regular file of this user, and
// the message names the target.
func TestAuthSymlinkedConfig(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real-config.json")
	os.WriteFile(real, []byte(`{}`), 0o600)
	link := filepath.Join(dir, "config.json")
	os.Symlink(real, link)
	args := []string{"auth", "--registry", "r.example", "--username", "bot", "--password-stdin", "-o", link}
	_, stderr, code := runStdin(t, "pw\n", args...)
	if code != 0 || !strings.Contains(stderr, "written to "+real+" (the target of the symlink "+link+")") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if st, err := os.Lstat(link); err != nil || st.Mode()&os.ModeSymlink == 0 {
		t.Error("the link was replaced by a file")
	}
	// A link to something not a regular file of this user is refused.
	for name, target := range map[string]string{"directory": dir, "device": "/dev/null"} {
		os.Remove(link)
		os.Symlink(target, link)
		if _, stderr, code := runStdin(t, "pw\n", args...); code != 1 || !strings.Contains(stderr, "not a regular file of this user") {
			t.Errorf("link to a %s: exit %d %s", name, code, stderr)
		}
	}
	if os.Geteuid() == 0 {
		other := filepath.Join(dir, "someone-elses.json")
		os.WriteFile(other, []byte(`{}`), 0o644)
		os.Chown(other, 1234, 1234)
		os.Remove(link)
		os.Symlink(other, link)
		if _, stderr, code := runStdin(t, "pw\n", args...); code != 1 || !strings.Contains(stderr, "not a regular file of this user") {
			t.Errorf("link to another user's file: exit %d %s", code, stderr)
		}
		if st, _ := os.Stat(other); st.Mode().Perm() != 0o644 {
			t.Errorf("another user's file was re-moded to %v", st.Mode().Perm())
		}
	}
}
