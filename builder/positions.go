package builder

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2/unstable"
)

// positions maps every key of a TOML document to the line it is written on.
// Keys are dotted paths in which array-of-tables elements carry their index:
// "tools.crop.tests.1.params.band", "workflows.0.path". go-toml's decoder
// reports lines only for the errors it finds itself; the checks done after
// decoding (a missing directory, a duplicate image) need this index to say
// where the user wrote the value.
type positions struct {
	lines map[string]int
	// toolOrder is the order in which tool tables first appear: a map loses
	// it, and Skaffold, cwlpatch and the tests must follow the file.
	toolOrder []string
}

// line returns the line of path, or of its nearest recorded parent, or 0.
func (p *positions) line(path string) int {
	if p == nil {
		return 0
	}
	for path != "" {
		if l, ok := p.lines[path]; ok {
			return l
		}
		i := strings.LastIndexByte(path, '.')
		if i < 0 {
			return 0
		}
		path = path[:i]
	}
	return 0
}

// indexPositions parses data with go-toml's low-level parser. It returns the
// parser's error for malformed TOML, which the caller reports with its line.
func indexPositions(data []byte) (*positions, error) {
	pos := &positions{lines: map[string]int{}}
	arrays := map[string]int{} // array-of-tables path -> elements seen
	seenTools := map[string]bool{}
	var p unstable.Parser
	p.Reset(data)
	var table []string
	lineOf := newLineIndex(data).lineOf
	record := func(path []string, line int) {
		key := strings.Join(path, ".")
		if _, ok := pos.lines[key]; !ok {
			pos.lines[key] = line
		}
		if len(path) >= 2 && path[0] == "tools" && !seenTools[path[1]] {
			seenTools[path[1]] = true
			pos.toolOrder = append(pos.toolOrder, path[1])
		}
	}
	// resolve turns the raw key parts of a header into a canonical path,
	// stepping into the last element of any array of tables on the way.
	resolve := func(base []string, parts [][]byte) []string {
		path := append([]string(nil), base...)
		for _, part := range parts {
			path = append(path, string(part))
			if n, ok := arrays[strings.Join(path, ".")]; ok {
				path = append(path, strconv.Itoa(n-1))
			}
		}
		return path
	}
	var walkValue func(path []string, v *unstable.Node, line int)
	walkValue = func(path []string, v *unstable.Node, line int) {
		switch v.Kind {
		case unstable.InlineTable:
			it := v.Children()
			for it.Next() {
				kv := it.Node()
				walkKeyValue(path, kv, lineOf, record, walkValue)
			}
		case unstable.Array:
			it := v.Children()
			i := 0
			for it.Next() {
				child := append(append([]string(nil), path...), strconv.Itoa(i))
				record(child, line)
				walkValue(child, it.Node(), line)
				i++
			}
		}
	}
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			var parts [][]byte
			line := 0
			it := e.Key()
			for it.Next() {
				if line == 0 {
					line = lineOf(it.Node())
				}
				parts = append(parts, it.Node().Data)
			}
			if e.Kind == unstable.Table {
				table = resolve(nil, parts)
			} else {
				table = resolve(nil, parts[:len(parts)-1])
				table = append(table, string(parts[len(parts)-1]))
				key := strings.Join(table, ".")
				record(table, line)
				arrays[key]++
				table = append(table, strconv.Itoa(arrays[key]-1))
			}
			record(table, line)
		case unstable.KeyValue:
			walkKeyValue(table, e, lineOf, record, walkValue)
		}
	}
	if err := p.Error(); err != nil {
		return nil, err
	}
	return pos, nil
}

func walkKeyValue(table []string, kv *unstable.Node, lineOf func(*unstable.Node) int,
	record func([]string, int), walkValue func([]string, *unstable.Node, int)) {
	path := append([]string(nil), table...)
	var line int
	it := kv.Key()
	for it.Next() {
		if line == 0 {
			line = lineOf(it.Node())
		}
		path = append(path, string(it.Node().Data))
		record(path, line)
	}
	walkValue(path, kv.Value(), line)
}

// lineIndex finds the line of a node in O(log n), where the parser's own
// Shape rescans the document from the start each time.
type lineIndex struct {
	data   []byte
	starts []int // offset of the first byte of each line
}

func newLineIndex(data []byte) *lineIndex {
	starts := []int{0}
	for i, c := range data {
		if c == '\n' {
			starts = append(starts, i+1)
		}
	}
	return &lineIndex{data: data, starts: starts}
}

func (x *lineIndex) lineOf(n *unstable.Node) int {
	off := -1
	if n.Raw.Length > 0 {
		off = int(n.Raw.Offset)
	} else if len(n.Data) > 0 {
		// Unescaped keys reference the input; escaped ones were copied and
		// have no position of their own.
		o := cap(x.data) - cap(n.Data)
		if o >= 0 && o < len(x.data) && &x.data[o] == &n.Data[0] {
			off = o
		}
	}
	if off < 0 {
		return 0
	}
	return sort.SearchInts(x.starts, off+1)
}

// errorAt is an error located at a key of file, project.toml: Project and
// Plan both report through it.
func (p *positions) errorAt(file, key, format string, args ...any) error {
	return &Error{File: file, Line: p.line(key), Key: key, Msg: fmt.Sprintf(format, args...)}
}
