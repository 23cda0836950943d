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

// Command is one program run, as an argv: never a shell string.
type Command []string

// String renders the command for messages, shell-quoted so it can be pasted.
func (c Command) String() string {
	words := make([]string, len(c))
	for i, w := range c {
		words[i] = Quote(w)
	}
	return strings.Join(words, " ")
}
