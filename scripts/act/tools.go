//go:build tools

// Package tools pins nektos/act (see go.mod).
package tools

import _ "github.com/nektos/act"
