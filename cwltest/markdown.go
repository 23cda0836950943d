package cwltest

import (
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxMarkdownCell bounds a cell of the Markdown summary: a failure's
// message is cut there (the JUnit report has it whole).
const MaxMarkdownCell = 300

// WriteMarkdown writes the runs as a Markdown table (`cwlbuild test
// --markdown`): the job summary a CI shows on the run's page (GitHub
// Actions' $GITHUB_STEP_SUMMARY, which the Action appends it to). One row
// per test: result, name, id, engine, time and, for a failure, the
// message. Every cell is the package's text made inert: no line break,
// table bar, HTML or Markdown markup of its own survives (names and
// messages come from project.toml and the tools' output).
func WriteMarkdown(w io.Writer, title string, runs []*Run, results []Result) error {
	passed, failed := 0, 0
	for _, res := range results {
		if res.Err != nil {
			failed++
		} else {
			passed++
		}
	}
	skipped := len(runs) - len(results)
	var b strings.Builder
	fmt.Fprintf(&b, "### %s: %d passed, %d failed, %d skipped\n\n", cell(title), passed, failed, skipped)
	b.WriteString("| result | test | id | engine | time | message |\n|---|---|---|---|---|---|\n")
	for i, r := range runs {
		result, took, msg := "skipped", "", "not run: an earlier test failed"
		if i < len(results) {
			res := results[i]
			result, took, msg = "passed", res.Duration.Round(time.Millisecond).String(), ""
			if res.Err != nil {
				result, msg = "**failed**", res.Err.Error()
			}
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", result, cell(r.Test.DisplayName()), cell(r.Test.ID), cell(string(r.Engine)), took, cell(msg))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// cell is s as one inert table cell: one line, at most MaxMarkdownCell
// bytes, each character Markdown or HTML would read as markup written as
// an HTML entity, so it shows as itself.
func cell(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > MaxMarkdownCell {
		cut := MaxMarkdownCell
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case strings.ContainsRune("|<>&*_`[]()!#\\~:@", r):
			fmt.Fprintf(&b, "&#%d;", r)
		case r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 || r == 0x2028 || r == 0x2029:
			// Control characters: none shows.
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
