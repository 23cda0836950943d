//go:build tools

// Package tools pins the cosign v3 CLI, the second independent verifier of
// what cwlbuild signs: it reads the Sigstore bundle format as well as the
// legacy one.
package tools

import _ "github.com/sigstore/cosign/v3/cmd/cosign"
