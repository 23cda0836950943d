package testenv

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// READMEBlock is one fenced block of the documentation: README.md, or a
// page of docs/ it links to.
type READMEBlock struct {
	File string // relative to the module root: README.md, docs/ci.md...
	Line int    // of the opening fence, 1-based
	Lang string // the fence's info string: sh, yaml, text...
	Text string // the lines between the fences
}

// First is the block's first line: what tests name a block by.
func (b READMEBlock) First() string {
	first, _, _ := strings.Cut(b.Text, "\n")
	return first
}

// docLink is a link of README.md to a page of docs/.
var docLink = regexp.MustCompile(`\]\((docs/[a-z0-9-]+\.md)\)`)

// DocPages are the documentation's files in reading order: README.md, then
// each page of docs/ in the order README.md first links to it.
func DocPages(t testing.TB) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(ModuleRoot(), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	pages := []string{"README.md"}
	seen := map[string]bool{}
	for _, m := range docLink.FindAllStringSubmatch(string(data), -1) {
		if !seen[m[1]] {
			seen[m[1]] = true
			pages = append(pages, m[1])
		}
	}
	return pages
}

// READMEBlocks returns every fenced block of the documentation (DocPages),
// in order, so tests can run the commands it shows exactly as written.
func READMEBlocks(t testing.TB) []READMEBlock {
	t.Helper()
	var blocks []READMEBlock
	for _, page := range DocPages(t) {
		data, err := os.ReadFile(filepath.Join(ModuleRoot(), page))
		if err != nil {
			t.Fatalf("README.md links to %s: %v", page, err)
		}
		var cur *READMEBlock
		for i, line := range strings.Split(string(data), "\n") {
			switch {
			case cur == nil && strings.HasPrefix(line, "```"):
				cur = &READMEBlock{File: page, Line: i + 1, Lang: strings.TrimPrefix(line, "```")}
			case cur != nil && line == "```":
				blocks = append(blocks, *cur)
				cur = nil
			case cur != nil:
				cur.Text += line + "\n"
			}
		}
		if cur != nil {
			t.Fatalf("%s:%d: a block is never closed", page, cur.Line)
		}
	}
	return blocks
}

// READMEBlockStarting returns the documentation's block whose first line
// starts with first.
func READMEBlockStarting(t testing.TB, first string) READMEBlock {
	t.Helper()
	for _, b := range READMEBlocks(t) {
		if strings.HasPrefix(b.First(), first) {
			return b
		}
	}
	t.Fatalf("the documentation has no block starting %q", first)
	return READMEBlock{}
}
