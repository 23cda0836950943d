package cwlpatch

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// Document is one parsed CWL file and the processes it holds.
type Document struct {
	File string
	Data []byte
	// JSON is set when the file is JSON (as `cwltool --pack` writes it):
	// anything added must be JSON too.
	JSON bool
	// Newline is "\r\n" for CRLF files, else "\n".
	Newline   string
	Processes []*Process

	root      *yaml.Node
	lineStart []int
	byID      map[string][]*Process // built by ParseDocument
	runners   map[string][]stepRun  // built on first use
}

// Process is a CWL process object (CommandLineTool, Workflow, ...).
type Process struct {
	// ID is the process id without its leading '#'; "" for an anonymous
	// top-level process.
	ID    string
	Class string
	Node  *yaml.Node
	// TopLevel is set for the document itself or a $graph entry; inline
	// `run:` processes are not top level.
	TopLevel bool
	// Parents are the enclosing processes, outermost first (for a process
	// inlined in a workflow step).
	Parents []*Process
}

// ParseDocument parses CWL in YAML or JSON and indexes its processes.
func ParseDocument(file string, data []byte) (*Document, error) {
	d := &Document{File: file, Data: data, Newline: "\n"}
	if i := bytes.IndexByte(data, '\n'); i > 0 && data[i-1] == '\r' {
		d.Newline = "\r\n"
	}
	trimmed := bytes.TrimLeft(data, " \t\r\n\ufeff")
	d.JSON = len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[')
	if err := checkLineBreaks(file, data); err != nil {
		return nil, err
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("%s: not valid YAML or JSON: %v", file, err)
	}
	if root.Kind != yaml.DocumentNode || len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: not a CWL document (the top level is not a mapping)", file)
	}
	d.root = root.Content[0]
	d.lineStart = []int{0}
	for i, c := range data {
		if c == '\n' {
			d.lineStart = append(d.lineStart, i+1)
		}
	}
	top := d.root
	if graph := mapGet(top, "$graph"); graph != nil {
		if graph.Kind != yaml.SequenceNode {
			return nil, fmt.Errorf("%s:%d: $graph is not a list", file, graph.Line)
		}
		for _, item := range graph.Content {
			if item.Kind == yaml.MappingNode {
				d.addProcess(item, true, nil)
			}
		}
	} else {
		if mapGet(top, "class") == nil {
			return nil, fmt.Errorf("%s: not a CWL document (no class and no $graph)", file)
		}
		d.addProcess(top, true, nil)
	}
	d.byID = map[string][]*Process{}
	for _, p := range d.Processes {
		d.byID[p.ID] = append(d.byID[p.ID], p)
	}
	return d, nil
}

func (d *Document) addProcess(n *yaml.Node, top bool, parents []*Process) {
	p := &Process{Node: n, TopLevel: top, Parents: parents}
	if v := mapGet(n, "id"); v != nil && v.Kind == yaml.ScalarNode {
		p.ID = NormalizeID(v.Value)
	}
	if v := mapGet(n, "class"); v != nil && v.Kind == yaml.ScalarNode {
		p.Class = v.Value
	}
	if p.Class == "" {
		return
	}
	d.Processes = append(d.Processes, p)
	// Inline processes: steps[].run when it is a mapping.
	inner := append(append([]*Process(nil), parents...), p)
	forEachStep(mapGet(n, "steps"), func(step *yaml.Node) {
		if run := mapGet(step, "run"); run != nil && run.Kind == yaml.MappingNode {
			d.addProcess(run, false, inner)
		}
	})
}

// NormalizeID makes "#crop", "crop" and "file.cwl#crop" the same id.
func NormalizeID(id string) string {
	if i := strings.LastIndexByte(id, '#'); i >= 0 {
		id = id[i+1:]
	}
	return id
}

// Find returns the process with id; with id "" it returns the single
// process of a document that has exactly one top-level process.
func (d *Document) Find(id string) (*Process, error) {
	id = NormalizeID(id)
	if id == "" {
		var tops []*Process
		for _, p := range d.Processes {
			if p.TopLevel {
				tops = append(tops, p)
			}
		}
		if len(tops) == 1 {
			return tops[0], nil
		}
		return nil, fmt.Errorf("%s holds %d processes: name one as FILE#ID", d.File, len(tops))
	}
	found := d.byID[id]
	if len(found) == 0 {
		return nil, fmt.Errorf("%s: no process with id %q", d.File, id)
	}
	if len(found) > 1 {
		return nil, fmt.Errorf("%s:%d: two processes with id %q (the other at line %d)", d.File, found[1].Node.Line, id, found[0].Node.Line)
	}
	return found[0], nil
}

// mapGet returns the value of key in a mapping node, or nil.
func mapGet(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// offset converts a node's line and column (1-based, counted in characters)
// to a byte offset in Data.
func (d *Document) offset(n *yaml.Node) int {
	if n.Line < 1 || n.Line > len(d.lineStart) {
		return -1
	}
	off := d.lineStart[n.Line-1]
	for col := 1; col < n.Column && off < len(d.Data); col++ {
		_, size := utf8.DecodeRune(d.Data[off:])
		off += size
	}
	return off
}

// lineIndent returns the leading whitespace of the line holding offset off.
func (d *Document) lineIndent(off int) (start int, indent string) {
	off = min(max(off, 0), len(d.Data))
	start = bytes.LastIndexByte(d.Data[:off], '\n') + 1
	end := start
	for end < len(d.Data) && (d.Data[end] == ' ' || d.Data[end] == '\t') {
		end++
	}
	return start, string(d.Data[start:end])
}

// lineOf returns the 1-based line holding byte offset off.
func (d *Document) lineOf(off int) int {
	return sort.Search(len(d.lineStart), func(i int) bool { return d.lineStart[i] > off })
}

// checkLineBreaks refuses the line breaks YAML honours besides \n and \r\n
// (a lone \r, NEL, LS, PS): positions are counted in \n-terminated lines, and
// a splice computed on a different count would land in the wrong place.
func checkLineBreaks(file string, data []byte) error {
	line := 1
	for i := 0; i < len(data); i++ {
		switch {
		case data[i] == '\n':
			line++
		case data[i] == '\r' && (i+1 == len(data) || data[i+1] != '\n'):
			return fmt.Errorf("%s:%d: a carriage return without a line feed: use \\n or \\r\\n line endings", file, line)
		case data[i] == 0xC2 && i+1 < len(data) && data[i+1] == 0x85,
			data[i] == 0xE2 && i+2 < len(data) && data[i+1] == 0x80 && (data[i+2] == 0xA8 || data[i+2] == 0xA9):
			return fmt.Errorf("%s:%d: a Unicode line or paragraph separator, which YAML reads as a line break: use \\n", file, line)
		}
	}
	return nil
}
