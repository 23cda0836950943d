package logtext

import (
	"bytes"
	"math/rand"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// fragments are what hostile names are made of: CI command starts, terminal
// escapes, line breaks, invalid UTF-8 and plain text.
var fragments = []string{
	"::error title=cwlbuild::", "::add-mask::", "::set-output name=workflow::", "  ::warning::",
	"##[group]", "##vso[task.setvariable variable=x]", "section_start:1:x", "section_end:1:x",
	"\n", "\r", "\r\n", "\x1b]0;owned\a", "\x1b[2K", "\x1b[0K", "\a", "\x00", "\x7f", "\u0085",
	"\u2028", "\u202e", "\xff", "\xc3", "t1", "crop", " ", "\t", "#", ":", "é", "雪",
}

func hostile(r *rand.Rand) string {
	var b strings.Builder
	for n := r.Intn(6); n >= 0; n-- {
		b.WriteString(fragments[r.Intn(len(fragments))])
	}
	return b.String()
}

// safeLine fails t when line (one line, no newline) could run a CI command
// or hold a terminal control.
func safeLine(t *testing.T, what, line string) {
	t.Helper()
	if startsCommand(line) {
		t.Fatalf("%s: %q starts a CI command", what, line)
	}
	if strings.Contains(line, "##vso[") {
		t.Fatalf("%s: %q holds Azure's command marker", what, line)
	}
	if !utf8.ValidString(line) {
		t.Fatalf("%s: %q is not UTF-8", what, line)
	}
	for _, r := range line {
		if r != '\t' && isControl(r) {
			t.Fatalf("%s: %q holds control %U", what, line, r)
		}
	}
}

func TestValueProperty(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 20000; i++ {
		s := hostile(r)
		v := Value(s)
		if strings.Contains(v, "\n") {
			t.Fatalf("Value(%q) = %q: a newline", s, v)
		}
		// At a line's start or after a prefix: never a command.
		safeLine(t, "Value", v)
		safeLine(t, "Value", "test "+v+": passed")
		if v == s {
			continue
		}
		// Quoted: the reader gets the value back exactly.
		if back, err := strconv.Unquote(v); err != nil || back != s {
			t.Fatalf("Value(%q) = %q, which unquotes to %q (%v)", s, v, back, err)
		}
	}
	for _, plain := range []string{"crop", "norm_diff", "eoap-sample/crop:0.1.0", "water bodies é", ""} {
		if Value(plain) != plain {
			t.Errorf("Value(%q) = %q: plain text is changed", plain, Value(plain))
		}
	}
}

func TestWriterProperty(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	for i := 0; i < 3000; i++ {
		var in strings.Builder
		for n := r.Intn(8); n >= 0; n-- {
			in.WriteString(hostile(r))
		}
		var out bytes.Buffer
		w := NewWriter(&out)
		// Written in random pieces: a command split across writes is
		// still one line.
		data := []byte(in.String())
		for len(data) > 0 {
			k := 1 + r.Intn(len(data))
			w.Write(data[:k])
			data = data[k:]
		}
		w.Flush()
		wantLines := strings.Count(in.String(), "\n")
		if !strings.HasSuffix(in.String(), "\n") && in.Len() > 0 {
			wantLines++
		}
		got := out.String()
		if strings.Count(got, "\n") != wantLines {
			t.Fatalf("%q gave %d lines, want %d: %q", in.String(), strings.Count(got, "\n"), wantLines, got)
		}
		for _, line := range strings.Split(strings.TrimSuffix(got, "\n"), "\n") {
			safeLine(t, "Writer", line)
		}
	}
}

func TestWriterExamples(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"plain line\n", "plain line\n"},
		{"test t1\n::error title=cwlbuild::all tests passed\n", "test t1\n\\::error title=cwlbuild::all tests passed\n"},
		{"  ::add-mask::x\n", "\\  ::add-mask::x\n"},
		{"\x1b]0;owned\a step 1\r\n", "\\x1b]0;owned\\a step 1\n"},
		{"progress\roverwritten\n", "progress\\roverwritten\n"},
		{"a ##vso[task.complete result=Succeeded]\n", "a #\\x23vso[task.complete result=Succeeded]\n"},
		{"no newline", "no newline\n"},
	} {
		var out bytes.Buffer
		w := NewWriter(&out)
		w.Write([]byte(c.in))
		w.Flush()
		if out.String() != c.want {
			t.Errorf("%q: got %q, want %q", c.in, out.String(), c.want)
		}
	}
}

func TestWriterLongLine(t *testing.T) {
	var out bytes.Buffer
	w := NewWriter(&out)
	long := strings.Repeat("x", 5<<20)
	w.Write([]byte(long))
	w.Write([]byte("\nnext\n"))
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 2 || lines[1] != "next" {
		t.Fatalf("got %d lines, the last %.40q", len(lines), lines[len(lines)-1])
	}
	want := " [… " + strconv.Itoa(5<<20-MaxLine) + " more bytes of this line left out]"
	if !strings.HasSuffix(lines[0], want) || len(lines[0]) != MaxLine+len(want) {
		t.Errorf("the long line is %d bytes ending %q, want %d ending %q", len(lines[0]), lines[0][len(lines[0])-60:], MaxLine+len(want), want)
	}
}
