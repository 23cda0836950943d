// Package dockerconfig writes registry credentials in the Docker config.json
// format that Docker, podman, Kaniko and go-containerregistry all read, and as
// the kubernetes.io/dockerconfigjson Secret Kaniko pods mount. Credentials are
// only ever JSON-encoded, never interpolated into a shell or a command line:
// a password with quotes, spaces, '$' or newlines round-trips exactly.
package dockerconfig

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/eoap/cwlbuild/internal/atomicfile"
	"github.com/eoap/cwlbuild/internal/filelock"
)

// Credential is one registry login.
type Credential struct {
	Registry string
	Username string
	Password string
	// IdentityToken, for OAuth/OIDC-style logins, replaces username and
	// password.
	IdentityToken string
}

// Key is the auths key Docker uses for a registry: Docker Hub's historic URL
// for docker.io, the host otherwise.
func Key(registry string) string {
	r := strings.TrimSuffix(registry, "/")
	r = strings.TrimPrefix(strings.TrimPrefix(r, "https://"), "http://")
	switch r {
	case "docker.io", "index.docker.io", "registry-1.docker.io", "index.docker.io/v1":
		return "https://index.docker.io/v1/"
	}
	return r
}

// entry is the JSON of one auths entry.
func (c Credential) entry() map[string]string {
	e := map[string]string{}
	if c.IdentityToken != "" {
		e["identitytoken"] = c.IdentityToken
		if c.Username != "" {
			e["auth"] = base64.StdEncoding.EncodeToString([]byte(c.Username + ":"))
		}
		return e
	}
	e["auth"] = base64.StdEncoding.EncodeToString([]byte(c.Username + ":" + c.Password))
	return e
}

// Validate refuses logins that cannot work.
func (c Credential) Validate() error {
	switch {
	case c.Registry == "":
		return errors.New("no registry: give --registry (or set CI_REGISTRY)")
	case c.IdentityToken == "" && c.Username == "":
		return errors.New("no username: give --username (or set CI_REGISTRY_USER)")
	case c.IdentityToken == "" && c.Password == "":
		return errors.New("no password: pipe it to --password-stdin (or set CI_REGISTRY_PASSWORD)")
	case strings.Contains(c.Username, ":"):
		return errors.New("the username contains ':', which the Docker auth format cannot hold")
	case !utf8.ValidString(c.IdentityToken):
		// config.json holds it as a JSON string, where invalid UTF-8
		// becomes U+FFFD: the stored token would not be the one given.
		return errors.New("the identity token is not valid UTF-8, which a JSON config file cannot hold unchanged")
	case !utf8.ValidString(c.Registry):
		return errors.New("the registry is not valid UTF-8")
	}
	return nil
}

// Merge adds c to the config.json content old (nil: none), keeping every
// other registry and every other key (credHelpers, proxies, ...).
func Merge(old []byte, c Credential) ([]byte, error) {
	cfg := map[string]json.RawMessage{}
	if len(bytes.TrimSpace(old)) > 0 {
		if err := json.Unmarshal(old, &cfg); err != nil {
			return nil, fmt.Errorf("not a Docker config file: %v", err)
		}
	}
	if cfg == nil { // the file held `null`
		cfg = map[string]json.RawMessage{}
	}
	auths := map[string]json.RawMessage{}
	if raw, ok := cfg["auths"]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &auths); err != nil {
			return nil, fmt.Errorf("its auths are not a JSON object: %v", err)
		}
	}
	e, err := json.Marshal(c.entry())
	if err != nil {
		return nil, err
	}
	auths[Key(c.Registry)] = e
	if cfg["auths"], err = json.Marshal(auths); err != nil {
		return nil, err
	}
	out, err := json.MarshalIndent(cfg, "", "\t")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

// WriteFile merges c into the config file at path and writes it with mode
// 0600, atomically: a reader never sees half a file, and the credentials are
// never readable by others, even for an instant. It returns the file it
// wrote: path, or, when path is a symlink, its target, which is written only
// when it is a regular file this user owns (a link must not lead the
// credentials, and a mode change, to somebody else's file).
func WriteFile(path string, c Credential) (string, error) {
	target := path
	if st, err := os.Lstat(path); err == nil && st.Mode()&fs.ModeSymlink != 0 {
		real, err := filepath.EvalSymlinks(path)
		if err != nil {
			return "", fmt.Errorf("%s is a symlink whose target cannot be resolved: %v", path, err)
		}
		rst, err := os.Stat(real)
		if err != nil {
			return "", err
		}
		sys, ok := rst.Sys().(*syscall.Stat_t)
		if !rst.Mode().IsRegular() || !ok || int(sys.Uid) != os.Geteuid() {
			return "", fmt.Errorf("%s is a symlink to %s, which is not a regular file of this user: refusing to write credentials there", path, real)
		}
		target = real
	}
	if err := os.MkdirAll(filepath.Dir(target), 0o700); err != nil {
		return "", err
	}
	// An empty file to lock: concurrent logins take turns to read, merge
	// and rename, so none is lost (an empty file merges as no config).
	if f, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o600); err == nil {
		f.Close()
	} else if !errors.Is(err, fs.ErrExist) {
		return "", err
	}
	unlock, err := filelock.Lock(target)
	if err != nil {
		return "", err
	}
	defer unlock()
	if st, err := os.Lstat(target); err == nil {
		sys, ok := st.Sys().(*syscall.Stat_t)
		if !st.Mode().IsRegular() || !ok || int(sys.Uid) != os.Geteuid() {
			// Its owner could read what we merge in (root writing into a
			// user's file, a file planted by somebody else).
			return "", fmt.Errorf("%s is not a regular file of this user (uid %d): refusing to write credentials into it", target, os.Geteuid())
		}
	}
	old, err := os.ReadFile(target)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	data, err := Merge(old, c)
	if err != nil {
		return "", fmt.Errorf("%s: %v", target, err)
	}
	return target, atomicfile.WriteMode(target, data, 0o600)
}

// DefaultPath is where a login is written when no --output is given:
// $DOCKER_CONFIG/config.json, else Kaniko's /kaniko/.docker/config.json when
// that directory exists (inside the executor image), else
// ~/.docker/config.json.
func DefaultPath() string {
	if d := os.Getenv("DOCKER_CONFIG"); d != "" {
		return filepath.Join(d, "config.json")
	}
	if st, err := os.Stat("/kaniko/.docker"); err == nil && st.IsDir() {
		return "/kaniko/.docker/config.json"
	}
	home, err := os.UserHomeDir()
	if err != nil {
		home = "."
	}
	return filepath.Join(home, ".docker", "config.json")
}

// Secret renders a Kubernetes Secret of type kubernetes.io/dockerconfigjson
// holding c, for `kubectl apply -f -`.
func Secret(name, namespace string, c Credential) ([]byte, error) {
	cfg, err := Merge(nil, c)
	if err != nil {
		return nil, err
	}
	meta := map[string]string{"name": name}
	if namespace != "" {
		meta["namespace"] = namespace
	}
	doc := struct {
		APIVersion string            `yaml:"apiVersion"`
		Kind       string            `yaml:"kind"`
		Metadata   map[string]string `yaml:"metadata"`
		Type       string            `yaml:"type"`
		Data       map[string]string `yaml:"data"`
	}{"v1", "Secret", meta, "kubernetes.io/dockerconfigjson",
		map[string]string{".dockerconfigjson": base64.StdEncoding.EncodeToString(cfg)}}
	return yaml.Marshal(doc)
}
