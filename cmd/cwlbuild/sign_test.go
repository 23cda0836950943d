package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eoap/cwlbuild/internal/testenv"
)

// TestSignVerifiedByCosign: what `cwlbuild sign` pushes, the real cosign
// CLI verifies with the public key of the pair cosign generated; it
// refuses it with another pair's key, and for a digest nobody signed. A
// wrong password or a missing key fails with a message that quotes
// neither the key nor the password; a key from an environment variable
// signs too.
func TestSignVerifiedByCosign(t *testing.T) {
	cosign := testenv.Cosign(t)
	reg := testenv.StartRegistry(t)
	reg.PushBase(t)
	image := reg.Host + "/library/busybox"
	digest := reg.Digest(t, image+":1.36")
	ref := image + "@" + digest
	dir := t.TempDir()
	const password = "correct horse battery staple"
	keys := func(sub string) string {
		d := filepath.Join(dir, sub)
		os.MkdirAll(d, 0o755)
		gen := exec.Command(cosign, "generate-key-pair")
		gen.Dir = d
		gen.Env = append(os.Environ(), "COSIGN_PASSWORD="+password)
		if out, err := gen.CombinedOutput(); err != nil {
			t.Fatalf("cosign generate-key-pair: %v\n%s", err, out)
		}
		return d
	}
	mine, other := keys("mine"), keys("other")
	cwlbuild := testenv.BuildBinary(t, "github.com/eoap/cwlbuild/cmd/cwlbuild")
	signWith := func(pass string, args ...string) (string, error) {
		c := exec.Command(cwlbuild, append([]string{"sign"}, args...)...)
		c.Dir = dir
		c.Env = append(os.Environ(), "COSIGN_PASSWORD="+pass)
		out, err := c.CombinedOutput()
		return string(out), err
	}
	verify := func(keyDir, ref string) (string, error) {
		c := exec.Command(cosign, "verify", "--key", filepath.Join(keyDir, "cosign.pub"), "--insecure-ignore-tlog=true",
			"--allow-http-registry", "--allow-insecure-registry", ref)
		c.Env = append(os.Environ(), "DOCKER_CONFIG="+t.TempDir())
		out, err := c.CombinedOutput()
		return string(out), err
	}

	if out, err := signWith("not it", "--key", filepath.Join(mine, "cosign.key"), ref); err == nil || !strings.Contains(out, "wrong password") || strings.Contains(out, "not it") {
		t.Errorf("a wrong password: %v\n%s", err, out)
	}
	key, _ := os.ReadFile(filepath.Join(mine, "cosign.key"))
	if out, err := signWith(password, "--key", filepath.Join(dir, "nokey"), ref); err == nil || !strings.Contains(out, "nokey") {
		t.Errorf("a missing key: %v\n%s", err, out)
	}
	if out, err := verify(mine, ref); err == nil {
		t.Fatalf("cosign verified an image nobody signed:\n%s", out)
	}
	out, err := signWith(password, "--key", filepath.Join(mine, "cosign.key"), ref)
	if err != nil || !strings.Contains(out, "signed "+ref) {
		t.Fatalf("cwlbuild sign: %v\n%s", err, out)
	}
	if strings.Contains(out, password) || strings.Contains(out, string(key[40:80])) {
		t.Errorf("the output quotes the password or the key:\n%s", out)
	}
	if out, err := verify(mine, ref); err != nil || !strings.Contains(out, `"docker-manifest-digest":"`+digest+`"`) {
		t.Errorf("cosign verify --key (the signing pair): %v\n%s", err, out)
	}
	if out, err := verify(other, ref); err == nil {
		t.Errorf("cosign verified the signature with another pair's key:\n%s", out)
	}
	// The key from an environment variable: a second signature, beside
	// the first.
	os.Setenv("CWLBUILD_TEST_COSIGN_KEY", string(key))
	defer os.Unsetenv("CWLBUILD_TEST_COSIGN_KEY")
	if out, err := signWith(password, "--key", "env://CWLBUILD_TEST_COSIGN_KEY", ref); err != nil {
		t.Fatalf("--key env://: %v\n%s", err, out)
	}
	if out, err := verify(mine, ref); err != nil {
		t.Errorf("after signing again: %v\n%s", err, out)
	}
}
