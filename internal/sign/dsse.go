package sign

import (
	"crypto/ecdsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
)

// InTotoPayloadType is the DSSE payload type of an in-toto statement.
const InTotoPayloadType = "application/vnd.in-toto+json"

// PAE is DSSE's pre-authentication encoding of a payload: what is signed,
// so that the type cannot be swapped under the signature.
func PAE(payloadType string, payload []byte) []byte {
	return []byte(fmt.Sprintf("DSSEv1 %d %s %d %s", len(payloadType), payloadType, len(payload), payload))
}

// Envelope signs payload as a DSSE envelope (JSON), the form cosign
// attestations take.
func Envelope(s Signer, payloadType string, payload []byte) ([]byte, error) {
	sig, err := s.Sign(PAE(payloadType, payload))
	if err != nil {
		return nil, err
	}
	env := struct {
		PayloadType string `json:"payloadType"`
		Payload     string `json:"payload"`
		Signatures  []struct {
			KeyID string `json:"keyid"`
			Sig   string `json:"sig"`
		} `json:"signatures"`
	}{PayloadType: payloadType, Payload: base64.StdEncoding.EncodeToString(payload)}
	env.Signatures = append(env.Signatures, struct {
		KeyID string `json:"keyid"`
		Sig   string `json:"sig"`
	}{Sig: sig})
	return json.Marshal(env)
}

// OpenEnvelope returns the payload of a DSSE envelope one of whose
// signatures pub verifies; an error otherwise.
func OpenEnvelope(pub *ecdsa.PublicKey, envelope []byte) (payloadType string, payload []byte, err error) {
	var env struct {
		PayloadType string `json:"payloadType"`
		Payload     string `json:"payload"`
		Signatures  []struct {
			Sig string `json:"sig"`
		} `json:"signatures"`
	}
	if err := json.Unmarshal(envelope, &env); err != nil {
		return "", nil, fmt.Errorf("not a DSSE envelope: %v", err)
	}
	payload, err = base64.StdEncoding.DecodeString(env.Payload)
	if err != nil {
		return "", nil, fmt.Errorf("DSSE payload: %v", err)
	}
	for _, s := range env.Signatures {
		if Verify(pub, PAE(env.PayloadType, payload), s.Sig) {
			return env.PayloadType, payload, nil
		}
	}
	return "", nil, errors.New("no signature of the envelope verifies with the key")
}
