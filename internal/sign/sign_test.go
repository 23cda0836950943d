package sign

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/secure-systems-lab/go-securesystemslib/encrypted"
)

// TestLoadKeyAndSign: an encrypted PKCS #8 key in cosign's PEM opens with
// its password and signs payloads its public key verifies; a wrong
// password, another PEM type or no PEM is refused without quoting either.
func TestLoadKeyAndSign(t *testing.T) {
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(priv)
	enc, err := encrypted.Encrypt(der, []byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED SIGSTORE PRIVATE KEY", Bytes: enc})
	s, err := LoadKey(keyPEM, []byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	payload := Payload("reg/repo", "sha256:"+strings.Repeat("a", 64))
	sig, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.StdEncoding.DecodeString(sig)
	sum := sha256.Sum256(payload)
	if !ecdsa.VerifyASN1(&priv.PublicKey, sum[:], raw) {
		t.Error("the signature does not verify")
	}
	var p struct {
		Critical struct {
			Identity struct {
				Ref string `json:"docker-reference"`
			} `json:"identity"`
			Image struct {
				Digest string `json:"docker-manifest-digest"`
			} `json:"image"`
			Type string `json:"type"`
		} `json:"critical"`
	}
	if err := json.Unmarshal(payload, &p); err != nil || p.Critical.Identity.Ref != "reg/repo" || p.Critical.Type != "cosign container image signature" || !strings.HasPrefix(p.Critical.Image.Digest, "sha256:") {
		t.Errorf("payload %s", payload)
	}
	pub, _ := PublicPEM(s)
	if !strings.Contains(string(pub), "BEGIN PUBLIC KEY") {
		t.Errorf("public key %s", pub)
	}
	for name, tc := range map[string]struct{ pem, pass string }{
		"wrong password": {string(keyPEM), "secret-guess"},
		"other type":     {strings.ReplaceAll(string(keyPEM), "ENCRYPTED SIGSTORE PRIVATE KEY", "RSA PRIVATE KEY"), "pw"},
		"no PEM":         {"not a key", "pw"},
	} {
		_, err := LoadKey([]byte(tc.pem), []byte(tc.pass))
		if err == nil || strings.Contains(err.Error(), tc.pass) || strings.Contains(err.Error(), string(enc[:8])) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
