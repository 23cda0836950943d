//go:build tools

// Package tools pins the cosign CLI the tests verify signatures with.
package tools

import _ "github.com/sigstore/cosign/v2/cmd/cosign"
