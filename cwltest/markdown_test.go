package cwltest

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/eoap/cwlbuild/builder"
)

// TestWriteMarkdown: one row per test with its result; a name or a
// message made of table bars, line breaks, HTML, links and a CI command
// stays one inert cell of its row.
func TestWriteMarkdown(t *testing.T) {
	hostile := "t|x\n::error::passed <img src=x onerror=alert(1)> [a](http://e) ![i](http://e)"
	runs := []*Run{
		{Test: &builder.TestPlan{ID: "tools.a.0", Name: hostile}, Engine: "local"},
		{Test: &builder.TestPlan{ID: "tools.a.1", Name: "ok"}, Engine: "local"},
		{Test: &builder.TestPlan{ID: "workflows.0.0", Name: "later"}, Engine: "local"},
	}
	results := []Result{
		{Run: runs[0], Err: errors.New("output water.checksum: differs: expected \"sha1$a\", got \"sha1$b\"\n| injected | row |"), Duration: 1500 * time.Millisecond},
		{Run: runs[1], Duration: time.Second},
	}
	var b strings.Builder
	if err := WriteMarkdown(&b, "pkg", runs, results); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 7 || lines[0] != "### pkg: 1 passed, 1 failed, 1 skipped" {
		t.Fatalf("want a title, a blank line, a header, a separator and 3 rows:\n%s", out)
	}
	for _, row := range lines[2:] {
		if row == "" {
			continue
		}
		if n := strings.Count(row, "|"); n != 7 {
			t.Errorf("row with %d bars, want 7 (6 cells): %s", n, row)
		}
	}
	for _, bad := range []string{"<img", "](", "::error::", "\n| injected"} {
		if strings.Contains(out, bad) {
			t.Errorf("the summary holds %q:\n%s", bad, out)
		}
	}
	if !strings.HasPrefix(lines[4], "| **failed** | \"t&#124;x&#92;n&#58;&#58;error&#58;&#58;passed &#60;img") || !strings.Contains(lines[4], "differs&#58; expected \"sha1$a\"") {
		t.Errorf("the failed row: %s", lines[4])
	}
	if !strings.HasPrefix(lines[5], "| passed | ok | tools.a.1 | local | 1s |") {
		t.Errorf("the passed row: %s", lines[5])
	}
	if !strings.Contains(out, "| skipped | later |") {
		t.Errorf("no skipped row:\n%s", out)
	}
}
