// Package sign signs image and artifact digests with a key, in the layout
// cosign reads (`cosign verify --key`): a "simple signing" payload naming
// the digest, signed with the key (ECDSA P-256 over its SHA-256, as cosign
// does), pushed as a layer of the manifest tagged sha256-HEX.sig beside the
// signed manifest, the signature in the layer's annotation.
//
// Keys are cosign's: `cosign generate-key-pair` writes the private key
// encrypted with a password (scrypt and NaCl secretbox, PEM "ENCRYPTED
// SIGSTORE PRIVATE KEY"). Keyless signing (an OIDC identity, a Fulcio
// certificate, a Rekor entry) needs those services: not here, and not
// faked; Signer is the seam it would fill.
package sign

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/secure-systems-lab/go-securesystemslib/encrypted"
)

// PEM types of cosign's encrypted private keys (the older name first
// written by cosign 1.x).
var keyTypes = map[string]bool{"ENCRYPTED SIGSTORE PRIVATE KEY": true, "ENCRYPTED COSIGN PRIVATE KEY": true}

// Signer signs payloads.
type Signer interface {
	// Sign returns the signature of payload, base64-encoded as cosign
	// stores it.
	Sign(payload []byte) (string, error)
	// Public is the key that verifies the signatures.
	Public() crypto.PublicKey
}

// keySigner is a Signer over an ECDSA private key.
type keySigner struct{ key *ecdsa.PrivateKey }

func (k keySigner) Sign(payload []byte) (string, error) {
	sum := sha256.Sum256(payload)
	sig, err := ecdsa.SignASN1(rand.Reader, k.key, sum[:])
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

func (k keySigner) Public() crypto.PublicKey { return &k.key.PublicKey }

// LoadKey decrypts a cosign private key with its password. The errors say
// what is wrong without ever quoting the key or the password.
func LoadKey(pemData, password []byte) (Signer, error) {
	block, _ := pem.Decode(pemData)
	if block == nil {
		return nil, errors.New("not a PEM private key (want one `cosign generate-key-pair` wrote)")
	}
	if !keyTypes[block.Type] {
		return nil, fmt.Errorf("PEM block %q: want an ENCRYPTED SIGSTORE PRIVATE KEY, as `cosign generate-key-pair` writes", block.Type)
	}
	der, err := encrypted.Decrypt(block.Bytes, password)
	if err != nil {
		return nil, errors.New("cannot decrypt the private key: wrong password (COSIGN_PASSWORD)?")
	}
	key, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("the decrypted key is not PKCS #8: %v", err)
	}
	ec, ok := key.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("a %T key: only ECDSA keys (cosign's) are supported", key)
	}
	return keySigner{ec}, nil
}

// Payload is the simple-signing payload cosign signs for a manifest
// digest of repo ("registry/path", no tag).
func Payload(repo, digest string) []byte {
	p := map[string]any{
		"critical": map[string]any{
			"identity": map[string]string{"docker-reference": repo},
			"image":    map[string]string{"docker-manifest-digest": digest},
			"type":     "cosign container image signature",
		},
		"optional": nil,
	}
	data, _ := json.Marshal(p)
	return data
}

// PublicPEM is the public key as `cosign generate-key-pair` writes
// cosign.pub.
func PublicPEM(s Signer) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(s.Public())
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// LoadPublicKey reads a PEM public key (cosign.pub).
func LoadPublicKey(pemData []byte) (*ecdsa.PublicKey, error) {
	block, _ := pem.Decode(pemData)
	if block == nil || block.Type != "PUBLIC KEY" {
		return nil, errors.New("not a PEM public key (want the cosign.pub of the pair)")
	}
	key, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, err
	}
	ec, ok := key.(*ecdsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("a %T key: only ECDSA keys (cosign's) are supported", key)
	}
	return ec, nil
}

// Verify checks a base64 signature of payload, as Sign makes it.
func Verify(pub *ecdsa.PublicKey, payload []byte, sigB64 string) bool {
	sig, err := base64.StdEncoding.DecodeString(sigB64)
	if err != nil {
		return false
	}
	sum := sha256.Sum256(payload)
	return ecdsa.VerifyASN1(pub, sum[:], sig)
}
