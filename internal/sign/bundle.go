package sign

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
	"google.golang.org/protobuf/encoding/protojson"
)

// The Sigstore bundle format, as cosign v3 signs and attests by default: a
// bundle (v0.3, JSON) holding a DSSE envelope of an in-toto statement and
// the hint of the key that signed it, stored as an OCI 1.1 referrer of the
// signed manifest. cosign 2.x and Kyverno's `Cosign` type read only the
// legacy layout (Payload, Envelope), so releases carry both.
const (
	// BundleMediaType is the bundle's media type: the referrer's artifact
	// type and its one layer's.
	BundleMediaType = "application/vnd.dev.sigstore.bundle.v0.3+json"
	// SignPredicateType is the predicate of the statement cosign v3 signs
	// for an image digest: the bundle-format counterpart of Payload.
	SignPredicateType = "https://sigstore.dev/cosign/sign/v1"
	// inTotoStatementType is the in-toto statement v1 type.
	inTotoStatementType = "https://in-toto.io/Statement/v1"
)

// SignStatement is the in-toto statement cosign v3 signs for a manifest
// digest ("sha256:HEX"): its subject is the digest, its predicate empty.
func SignStatement(digest string) ([]byte, error) {
	algo, hexDigest, ok := strings.Cut(digest, ":")
	if !ok || algo == "" || hexDigest == "" {
		return nil, fmt.Errorf("%q: want ALGORITHM:HEX", digest)
	}
	return json.Marshal(map[string]any{
		"_type":         inTotoStatementType,
		"subject":       []any{map[string]any{"digest": map[string]string{algo: hexDigest}}},
		"predicateType": SignPredicateType,
		"predicate":     map[string]any{},
	})
}

// Bundle signs an in-toto statement as a DSSE envelope inside a Sigstore
// bundle, whose verification material is the hint of the signer's public
// key (the base64 of the SHA-256 of its DER), as cosign v3 writes it with
// --key. No transparency log entry: verify with --insecure-ignore-tlog.
func Bundle(s Signer, statement []byte) ([]byte, error) {
	sigB64, err := s.Sign(PAE(InTotoPayloadType, statement))
	if err != nil {
		return nil, err
	}
	sig, err := base64.StdEncoding.DecodeString(sigB64)
	if err != nil {
		return nil, err
	}
	hint, err := keyHint(s)
	if err != nil {
		return nil, err
	}
	b := &protobundle.Bundle{
		MediaType: BundleMediaType,
		VerificationMaterial: &protobundle.VerificationMaterial{
			Content: &protobundle.VerificationMaterial_PublicKey{PublicKey: &protocommon.PublicKeyIdentifier{Hint: hint}},
		},
		Content: &protobundle.Bundle_DsseEnvelope{DsseEnvelope: &protodsse.Envelope{
			Payload:     statement,
			PayloadType: InTotoPayloadType,
			Signatures:  []*protodsse.Signature{{Sig: sig}},
		}},
	}
	return protojson.Marshal(b)
}

// keyHint is the public key's fingerprint cosign and sigstore-go write
// into a bundle: base64(SHA-256(PKIX DER)).
func keyHint(s Signer) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(s.Public())
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(der)
	return base64.StdEncoding.EncodeToString(sum[:]), nil
}

// OpenBundle returns the in-toto statement of a Sigstore bundle whose DSSE
// envelope pub verifies; an error otherwise (not a bundle, not a DSSE
// envelope, another key's, another payload type).
func OpenBundle(pub *ecdsa.PublicKey, data []byte) ([]byte, error) {
	var b protobundle.Bundle
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(data, &b); err != nil {
		return nil, fmt.Errorf("not a Sigstore bundle: %v", err)
	}
	if !strings.HasPrefix(b.GetMediaType(), "application/vnd.dev.sigstore.bundle") {
		return nil, fmt.Errorf("not a Sigstore bundle (media type %q)", b.GetMediaType())
	}
	env := b.GetDsseEnvelope()
	if env == nil {
		return nil, errors.New("the bundle holds no DSSE envelope")
	}
	if env.GetPayloadType() != InTotoPayloadType {
		return nil, fmt.Errorf("the bundle's payload is a %q, not an in-toto statement", env.GetPayloadType())
	}
	for _, s := range env.GetSignatures() {
		if Verify(pub, PAE(env.GetPayloadType(), env.GetPayload()), base64.StdEncoding.EncodeToString(s.GetSig())) {
			return env.GetPayload(), nil
		}
	}
	return nil, errors.New("no signature of the bundle verifies with the key")
}
