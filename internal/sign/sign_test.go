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

// TestBundle: a statement signed in a Sigstore bundle opens with the
// signer's public key only, to the same statement; the bundle carries the
// key's hint and cosign v3's media type; a changed statement, another
// key, or a bundle of another payload type are refused.
func TestBundle(t *testing.T) {
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	s := keySigner{priv}
	statement, err := SignStatement("sha256:" + strings.Repeat("ab", 32))
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Type          string `json:"_type"`
		PredicateType string `json:"predicateType"`
		Subject       []struct {
			Digest map[string]string `json:"digest"`
		} `json:"subject"`
	}
	if json.Unmarshal(statement, &st) != nil || st.Type != "https://in-toto.io/Statement/v1" || st.PredicateType != SignPredicateType || len(st.Subject) != 1 || st.Subject[0].Digest["sha256"] != strings.Repeat("ab", 32) {
		t.Errorf("statement %s", statement)
	}
	if _, err := SignStatement("no-digest"); err == nil {
		t.Error("a digest without an algorithm was accepted")
	}
	b, err := Bundle(s, statement)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		MediaType            string `json:"mediaType"`
		VerificationMaterial struct {
			PublicKey struct{ Hint string } `json:"publicKey"`
		} `json:"verificationMaterial"`
		DSSEEnvelope struct {
			Payload, PayloadType string
		} `json:"dsseEnvelope"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	hint := sha256.Sum256(der)
	if doc.MediaType != BundleMediaType || doc.VerificationMaterial.PublicKey.Hint != base64.StdEncoding.EncodeToString(hint[:]) || doc.DSSEEnvelope.PayloadType != InTotoPayloadType {
		t.Errorf("bundle %s", b)
	}
	if got, err := OpenBundle(&priv.PublicKey, b); err != nil || string(got) != string(statement) {
		t.Errorf("OpenBundle with the key: %q %v", got, err)
	}
	if _, err := OpenBundle(&other.PublicKey, b); err == nil {
		t.Error("another key opened the bundle")
	}
	changed := strings.Replace(string(b), doc.DSSEEnvelope.Payload, base64.StdEncoding.EncodeToString([]byte(strings.Replace(string(statement), "ab", "cd", 1))), 1)
	if _, err := OpenBundle(&priv.PublicKey, []byte(changed)); err == nil {
		t.Error("a bundle whose statement was changed opened")
	}
	otherType := strings.Replace(string(b), InTotoPayloadType, "text/plain", 1)
	if _, err := OpenBundle(&priv.PublicKey, []byte(otherType)); err == nil {
		t.Error("a bundle of another payload type opened")
	}
	for _, bad := range []string{"", "{}", `{"mediaType":"application/json"}`, "not json"} {
		if _, err := OpenBundle(&priv.PublicKey, []byte(bad)); err == nil {
			t.Errorf("%q opened as a bundle", bad)
		}
	}
}
