// Package buildjson reads and writes the build output Skaffold records with
// `skaffold build -q` or `--file-output`: {"builds":[{"imageName","tag"}]}.
// It is kept apart from package skaffold so that cwlpatch, which only reads
// this file, links nothing of the config generator.
package buildjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

// MaxSize bounds what Parse reads: a build output for 10000 tools is about
// 2 MB, so anything near this is not a build output and is refused before it
// is held in memory.
const MaxSize = 64 << 20

// Build is one artifact Skaffold built.
type Build struct {
	// ImageName is the artifact's image as the Skaffold config names it.
	ImageName string `json:"imageName"`
	// Tag is the full reference built, "repo:tag@sha256:..." when Skaffold
	// knows the digest.
	Tag string `json:"tag"`
	// Line is where the build's entry starts in the file (0 if unknown).
	Line int `json:"-"`
}

// Output is a whole build output file.
type Output struct {
	Builds []Build `json:"builds"`
}

// ReadFile reads a build output from a file, or from stdin when name is "-".
func ReadFile(name string, stdin io.Reader) (*Output, error) {
	var r io.Reader = stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		if st, err := f.Stat(); err == nil && st.IsDir() {
			return nil, fmt.Errorf("%s: is a directory, not a build output file", name)
		} else if err == nil && st.Size() > MaxSize {
			return nil, fmt.Errorf("%s: %d MB, larger than any build output (limit %d MB)", name, st.Size()>>20, MaxSize>>20)
		}
		r = f
	} else {
		name = "<stdin>"
	}
	data, err := io.ReadAll(io.LimitReader(r, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	if len(data) > MaxSize {
		return nil, fmt.Errorf("%s: larger than %d MB: not a Skaffold build output", name, MaxSize>>20)
	}
	return Parse(name, data)
}

// Parse decodes a build output. Every entry must name an image and a tag,
// and no image may appear twice: a build output that contradicts itself
// cannot say which digest is right.
func Parse(name string, data []byte) (*Output, error) {
	lines := newLineIndex(data)
	fail := func(off int64, format string, args ...any) error {
		return fmt.Errorf("%s:%d: %s", name, lines.line(off), fmt.Sprintf(format, args...))
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	syntax := func(err error) error {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return fail(se.Offset, "not valid JSON: %v", err)
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("%s: not a Skaffold build output: the JSON ends early (empty or truncated file?)", name)
		}
		return fail(dec.InputOffset(), "%v", err)
	}
	if tok, err := dec.Token(); err != nil {
		return nil, syntax(err)
	} else if tok != json.Delim('{') {
		return nil, fail(0, `not a Skaffold build output: want {"builds": [...]}`)
	}
	out := &Output{}
	seen := map[string]int{}
	found := false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, syntax(err)
		}
		if tok != "builds" {
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return nil, syntax(err)
			}
			continue
		}
		if found {
			return nil, fail(dec.InputOffset(), `"builds" appears twice`)
		}
		found = true
		if tok, err := dec.Token(); err != nil {
			return nil, syntax(err)
		} else if tok != json.Delim('[') {
			return nil, fail(dec.InputOffset(), `"builds" is not a list`)
		}
		for i := 0; dec.More(); i++ {
			start := skipSpace(data, dec.InputOffset())
			var b Build
			if err := dec.Decode(&b); err != nil {
				var te *json.UnmarshalTypeError
				if errors.As(err, &te) {
					return nil, fail(start, "builds[%d]: %s must be a string", i, te.Field)
				}
				return nil, syntax(err)
			}
			b.Line = lines.line(start)
			switch {
			case b.ImageName == "":
				return nil, fail(start, "builds[%d] has no imageName", i)
			case b.Tag == "":
				return nil, fail(start, "builds[%d] (%s) has no tag", i, b.ImageName)
			}
			if prev, dup := seen[b.ImageName]; dup {
				return nil, fail(start, "image %s is listed twice (also builds[%d], line %d)", b.ImageName, prev, out.Builds[prev].Line)
			}
			seen[b.ImageName] = i
			out.Builds = append(out.Builds, b)
		}
		if _, err := dec.Token(); err != nil { // ']'
			return nil, syntax(err)
		}
	}
	if _, err := dec.Token(); err != nil { // '}'
		return nil, syntax(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fail(dec.InputOffset(), "unexpected data after the build output")
	}
	if !found {
		return nil, fmt.Errorf(`%s: not a Skaffold build output: no "builds" key`, name)
	}
	if len(out.Builds) == 0 {
		return nil, fmt.Errorf("%s: the build output lists no builds", name)
	}
	return out, nil
}

// Marshal writes a build output the way Skaffold does (one JSON line).
func Marshal(o *Output) ([]byte, error) {
	data, err := json.Marshal(o)
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}

// lineIndex maps byte offsets to 1-based line numbers.
type lineIndex []int

func newLineIndex(data []byte) lineIndex {
	idx := lineIndex{0}
	for i, c := range data {
		if c == '\n' {
			idx = append(idx, i+1)
		}
	}
	return idx
}

func (idx lineIndex) line(off int64) int {
	lo, hi := 0, len(idx)
	for lo+1 < hi {
		mid := (lo + hi) / 2
		if int64(idx[mid]) <= off {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo + 1
}

// skipSpace moves off past JSON whitespace and a separating comma, to the
// first byte of the next value.
func skipSpace(data []byte, off int64) int64 {
	for off < int64(len(data)) {
		switch data[off] {
		case ' ', '\t', '\r', '\n', ',':
			off++
		default:
			return off
		}
	}
	return off
}
