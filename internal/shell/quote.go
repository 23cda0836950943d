// Package shell quotes words for a POSIX shell: for commands shown to
// people (a dry run, a test's command line) and for the one command line
// Skaffold runs through `sh -c` (the custom builder's buildCommand).
package shell

import "strings"

// Quote quotes s for a POSIX shell: safe words stay bare, anything else is
// single-quoted, so that the shell reads exactly s back.
func Quote(s string) string {
	if s == "" {
		return "''"
	}
	if strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
