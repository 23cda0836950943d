// Package textdiff renders unified diffs, for --check and --dry-run output
// that a user reads like `diff -u`.
package textdiff

import (
	"github.com/pmezard/go-difflib/difflib"
)

// Unified returns the unified diff from old to new with three lines of
// context, or "" when they are equal.
func Unified(old, new []byte, oldName, newName string) string {
	if string(old) == string(new) {
		return ""
	}
	d := difflib.UnifiedDiff{
		A:        difflib.SplitLines(string(old)),
		B:        difflib.SplitLines(string(new)),
		FromFile: oldName,
		ToFile:   newName,
		Context:  3,
	}
	s, err := difflib.GetUnifiedDiffString(d)
	if err != nil {
		return err.Error()
	}
	return s
}
