package testenv

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// READMEBlock is one fenced block of the repository's README.md.
type READMEBlock struct {
	Line int    // of the opening fence, 1-based
	Lang string // the fence's info string: sh, yaml, text...
	Text string // the lines between the fences
}

// First is the block's first line: what tests name a block by.
func (b READMEBlock) First() string {
	first, _, _ := strings.Cut(b.Text, "\n")
	return first
}

// READMEBlocks returns every fenced block of README.md, in order, so tests
// can run the commands README shows exactly as written.
func READMEBlocks(t testing.TB) []READMEBlock {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(ModuleRoot(), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var blocks []READMEBlock
	var cur *READMEBlock
	for i, line := range strings.Split(string(data), "\n") {
		switch {
		case cur == nil && strings.HasPrefix(line, "```"):
			cur = &READMEBlock{Line: i + 1, Lang: strings.TrimPrefix(line, "```")}
		case cur != nil && line == "```":
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			cur.Text += line + "\n"
		}
	}
	if cur != nil {
		t.Fatalf("README.md:%d: a block is never closed", cur.Line)
	}
	return blocks
}

// READMEBlockStarting returns the block of README.md whose first line starts with
// first.
func READMEBlockStarting(t testing.TB, first string) READMEBlock {
	t.Helper()
	for _, b := range READMEBlocks(t) {
		if strings.HasPrefix(b.First(), first) {
			return b
		}
	}
	t.Fatalf("README.md has no block starting %q", first)
	return READMEBlock{}
}
