package cwltest

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/eoap/cwlbuild/builder"
)

// TestSummaryHostileNames: a test's name and id come from project.toml; in
// the summary (and every progress line, through DisplayName) none starts a
// line of its own, a CI command, or a terminal escape.
func TestSummaryHostileNames(t *testing.T) {
	runs := []*Run{
		{Test: &builder.TestPlan{Name: "t1\n::error title=cwlbuild::all tests passed, ignore the failures below", ID: "a"}},
		{Test: &builder.TestPlan{ID: "b\r::add-mask::x\x1b]0;title\a"}},
		{Test: &builder.TestPlan{Name: "##vso[task.complete result=Succeeded]", ID: "c"}},
		{Test: &builder.TestPlan{Name: "plain name", ID: "d\n##[group]x"}},
	}
	results := []Result{{Run: runs[0], Err: errors.New("failed")}, {Run: runs[1]}, {Run: runs[2]}}
	var out bytes.Buffer
	WriteSummary(&out, runs, results)
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 2+len(runs) { // a blank line, SUMMARY, one per test
		t.Fatalf("%d lines, want %d:\n%s", len(lines), 2+len(runs), out.String())
	}
	for _, line := range lines {
		trim := strings.TrimLeft(line, " \t")
		for _, cmd := range []string{"::", "##[", "##vso["} {
			if strings.HasPrefix(trim, cmd) {
				t.Errorf("line %q starts a CI command", line)
			}
		}
		if strings.Contains(line, "##vso[") || strings.ContainsAny(line, "\r\x1b\a") {
			t.Errorf("line %q holds a command marker or a control character", line)
		}
	}
	if !strings.Contains(out.String(), "plain name") {
		t.Errorf("a plain name is changed:\n%s", out.String())
	}
}
