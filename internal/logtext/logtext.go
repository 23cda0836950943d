// Package logtext is the one printer of text that comes from a package (tool,
// step, test and image names, file names, messages a build printed) on its
// way to a terminal or a CI log. A CI runner reads its log as commands: a
// line starting with "::" is a GitHub Actions workflow command (after
// leading blanks), "##[" and "##vso[" are Azure Pipelines' (the latter
// anywhere in a line), and ESC[0Ksection_start: opens a GitLab section; a
// terminal obeys escape sequences (OSC retitles it, CSI moves the cursor,
// CR overwrites the line). A package under review may name a test
// "t1\n::error::all tests passed", so a value never reaches a log as it is:
//
//   - Value escapes a value for one place in a line: control characters
//     (newline, CR, ESC, BEL, every C0 and C1 code and DEL) become Go escapes,
//     and a value that would start a command, or holds Azure's marker, is
//     quoted, so it can never begin a line nor run one;
//   - Writer filters whole lines written through it (a program's own output
//     and the children it relays): the same escapes, and a line that would
//     start a command gets a leading `\`.
package logtext

import (
	"bytes"
	"io"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// commandStarts are what a CI runner reads as a command at a line's start
// (after blanks): GitHub's workflow commands, Azure's logging commands and
// log groups, GitLab's section markers (written after ESC[0K, which the
// escapes already break; the bare marker is kept out too).
var commandStarts = []string{"::", "##[", "##vso[", "section_start:", "section_end:"}

// anywhere is what a runner reads as a command wherever it is in a line.
const anywhere = "##vso["

// Value is s, safe to print anywhere in a log line: unchanged when it is
// plain printable text, else quoted as a Go string (so `"t1\n::error::x"`,
// `"\x1b]0;title\a"`), and "##" inside it written `#\x23`.
func Value(s string) string {
	if !needsQuote(s) {
		return s
	}
	q := strconv.Quote(s)
	return strings.ReplaceAll(q, "##", `#\x23`)
}

func needsQuote(s string) bool {
	if s == "" {
		return false
	}
	if startsCommand(s) || strings.Contains(s, "##") {
		return true
	}
	// Invalid UTF-8 decodes as RuneError, so this also quotes it.
	for _, r := range s {
		if r == utf8.RuneError || isControl(r) {
			return true
		}
	}
	return false
}

// isControl: C0, DEL, C1, and the Unicode line and paragraph separators
// some log viewers break lines on.
func isControl(r rune) bool {
	return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u2028' || r == '\u2029' ||
		(unicode.Is(unicode.Cf, r) && r != '\u200d') // bidi overrides and other invisible format codes
}

// startsCommand says whether line, as a runner reads it (leading blanks
// trimmed), starts a CI command.
func startsCommand(line string) bool {
	t := strings.TrimLeft(line, " \t")
	for _, c := range commandStarts {
		if strings.HasPrefix(t, c) {
			return true
		}
	}
	return false
}

// Line is one line of text (no newline), safe as a whole line of a log:
// controls escaped, "##vso[" broken, and `\` put before a line that would
// start a command.
func Line(s string) string {
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !validAt(s, i):
			b.WriteString(`\x` + strconv.FormatUint(uint64(s[i]), 16))
		case r == '\t':
			b.WriteRune(r)
		case isControl(r):
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteRune(r)
		}
	}
	out := strings.ReplaceAll(b.String(), anywhere, `#\x23vso[`)
	if startsCommand(out) {
		out = `\` + out
	}
	return out
}

func validAt(s string, i int) bool {
	r, n := utf8.DecodeRuneInString(s[i:])
	return !(r == utf8.RuneError && n <= 1)
}

// MaxLine is the longest line Writer passes whole; the rest of a longer one
// is cut, and the cut said.
const MaxLine = 64 << 10

// Writer passes what is written to it to w a line at a time, each through
// Line. A line longer than MaxLine is cut there, with a note of how much was
// left out. A last line without a newline is held until Flush. Safe for
// concurrent use (a command and the children it relays may share one).
type Writer struct {
	// Max is the longest line passed whole (default MaxLine); 0: no limit,
	// for a program's standard output, which may be data (a manifest).
	Max int

	mu      sync.Mutex
	w       io.Writer
	buf     []byte
	dropped int
}

// NewWriter returns a Writer on w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w, Max: MaxLine} }

// Write implements io.Writer; it reports len(p) written unless w fails.
func (lw *Writer) Write(p []byte) (int, error) {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			lw.add(p)
			break
		}
		lw.add(p[:i])
		p = p[i+1:]
		if err := lw.emit(); err != nil {
			return 0, err
		}
	}
	return n, nil
}

func (lw *Writer) add(p []byte) {
	room := lw.Max - len(lw.buf)
	if lw.Max > 0 && len(p) > room {
		lw.dropped += len(p) - room
		p = p[:room]
	}
	lw.buf = append(lw.buf, p...)
}

func (lw *Writer) emit() error {
	line := Line(strings.TrimSuffix(string(lw.buf), "\r"))
	if lw.dropped > 0 {
		line += " [… " + strconv.Itoa(lw.dropped) + " more bytes of this line left out]"
	}
	lw.buf, lw.dropped = lw.buf[:0], 0
	_, err := io.WriteString(lw.w, line+"\n")
	return err
}

// Flush writes a last line that had no newline (with one).
func (lw *Writer) Flush() error {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	if len(lw.buf) == 0 && lw.dropped == 0 {
		return nil
	}
	return lw.emit()
}
