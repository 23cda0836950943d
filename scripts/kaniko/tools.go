//go:build tools

// Package tools pins the executor's main package in this module.
package tools

import _ "github.com/chainguard-dev/kaniko/cmd/executor"
