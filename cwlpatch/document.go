package cwlpatch

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/eoap/cwlbuild/builder"
)

// cwlDocument is one parsed CWL file and the processes it holds.
type cwlDocument struct {
	// File names the file in messages, as project.toml spells it; path is
	// its absolute path, "" for a document parsed from bytes alone.
	File string
	path string
	Data []byte
	// JSON is set when the file is JSON (as `cwltool --pack` writes it):
	// anything added must be JSON too.
	JSON bool
	// Newline is "\r\n" for CRLF files, else "\n".
	Newline   string
	Processes []*cwlProcess

	root      *yaml.Node
	lineStart []int
	byID      map[string][]*cwlProcess // built by parseDocument
	graph     bool                     // the document is a $graph

	// parsed is what yaml.v3 read when it differs from Data: JSON's "\/"
	// escape, which YAML 1.1 parsers refuse, taken out. removed holds the
	// offsets in parsed where a backslash was dropped, so node positions map
	// back to Data.
	parsed      []byte
	parsedLines []int
	removed     []int
	// imports resolves "$import" references against this file's directory
	// (set by the set of documents a project loads, so one imported file is
	// one document however many files import it).
	imports func(from *cwlDocument, ref string) (*cwlDocument, error)
}

// cwlProcess is a CWL process object (CommandLineTool, Workflow, ...).
type cwlProcess struct {
	// ID is the process id without its leading '#'; "" for an anonymous
	// top-level process.
	ID    string
	Class string
	Node  *yaml.Node
	// TopLevel is set for the document itself or a $graph entry; inline
	// `run:` processes are not top level.
	TopLevel bool
	// Parent is the workflow whose step Step holds this process inline
	// (steps[].run is a mapping); both nil for a top-level process.
	Parent *cwlProcess
	Step   *yaml.Node
	// Doc is the file the process is written in.
	Doc *cwlDocument
}

// Name is how messages call the process: its quoted id, or, for the
// anonymous process of a single-process file, its class and file.
func (p *cwlProcess) Name() string {
	switch {
	case p.ID != "":
		return fmt.Sprintf("%q", p.ID)
	case p.Parent != nil:
		return fmt.Sprintf("the %s of step %s of %s", p.Class, stepName(p.Parent, p.Step), p.Parent.Desc())
	}
	return "the " + p.Class + " in " + p.Doc.File
}

// Desc is Name with "process" (or "workflow") before an id: `process
// "crop"`, `workflow "main"`.
func (p *cwlProcess) Desc() string {
	switch {
	case p.ID == "":
		return p.Name()
	case p.Class == "Workflow":
		return "workflow " + p.Name()
	}
	return "process " + p.Name()
}

// parseDocument parses CWL in YAML or JSON and indexes its processes.
func parseDocument(file string, data []byte) (*cwlDocument, error) {
	d, err := newDocument(file, data)
	if err != nil {
		return nil, err
	}
	if d.root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: not a CWL document (the top level is not a mapping)", file)
	}
	top := d.root
	if graph := mapGet(top, "$graph"); graph != nil {
		if graph.Kind != yaml.SequenceNode {
			return nil, fmt.Errorf("%s:%d: $graph is not a list", file, graph.Line)
		}
		d.graph = true
		for _, item := range graph.Content {
			if item = deref(item); item.Kind == yaml.MappingNode {
				d.addProcess(item, true, nil, nil)
			}
		}
	} else {
		if mapGet(top, "class") == nil {
			return nil, fmt.Errorf("%s: not a CWL document (no class and no $graph)", file)
		}
		d.addProcess(top, true, nil, nil)
	}
	d.byID = map[string][]*cwlProcess{}
	for _, p := range d.Processes {
		d.byID[p.ID] = append(d.byID[p.ID], p)
	}
	return d, nil
}

// newDocument parses data as a YAML or JSON file, noting its line endings
// and whether it is JSON (what is added to it must be JSON too).
func newDocument(file string, data []byte) (*cwlDocument, error) {
	d := &cwlDocument{File: file, Data: data, Newline: newlineOf(data)}
	trimmed := bytes.TrimLeft(data, " \t\r\n\ufeff")
	d.JSON = len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[')
	if err := d.parse(); err != nil {
		return nil, err
	}
	return d, nil
}

// isFragment reports a document parsed as an imported piece, not a CWL
// file: it holds no processes.
func (d *cwlDocument) isFragment() bool { return d.byID == nil }

// parse reads Data as YAML (JSON is YAML, but for the "\/" escape) into
// root, and indexes line starts for position arithmetic.
func (d *cwlDocument) parse() error {
	if err := checkLineBreaks(d.File, d.Data); err != nil {
		return err
	}
	d.lineStart = lineStarts(d.Data)
	d.parsed, d.parsedLines = d.Data, d.lineStart
	// Only in valid JSON are string boundaries certain; in anything else a
	// backslash is left for the YAML parser to judge.
	if d.JSON && bytes.Contains(d.Data, []byte(`\/`)) && json.Valid(d.Data) {
		d.parsed, d.removed = unescapeSolidus(d.Data)
		d.parsedLines = lineStarts(d.parsed)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(d.parsed, &root); err != nil {
		return fmt.Errorf("%s: not valid YAML or JSON: %v", d.File, err)
	}
	if root.Kind != yaml.DocumentNode || len(root.Content) == 0 {
		return fmt.Errorf("%s: empty document", d.File)
	}
	d.root = deref(root.Content[0])
	return nil
}

// newlineOf is "\r\n" for a file whose first line ends so, else "\n".
func newlineOf(data []byte) string {
	if i := bytes.IndexByte(data, '\n'); i > 0 && data[i-1] == '\r' {
		return "\r\n"
	}
	return "\n"
}

func lineStarts(data []byte) []int {
	starts := []int{0}
	for i, c := range data {
		if c == '\n' {
			starts = append(starts, i+1)
		}
	}
	return starts
}

// unescapeSolidus drops the backslash of every "\\/" escape inside the
// double-quoted strings of JSON text and returns the offsets, in the result,
// where one was dropped. Outside strings a backslash is not an escape, and
// is left for the YAML parser to judge.
func unescapeSolidus(data []byte) ([]byte, []int) {
	out := make([]byte, 0, len(data))
	var removed []int
	inString := false
	for i := 0; i < len(data); i++ {
		c := data[i]
		switch {
		case !inString:
			inString = c == '"'
		case c == '"':
			inString = false
		case c == '\\' && i+1 < len(data):
			if data[i+1] == '/' {
				removed = append(removed, len(out))
				continue
			}
			out = append(out, c)
			i++
			c = data[i]
		}
		out = append(out, c)
	}
	return out, removed
}

func (d *cwlDocument) addProcess(n *yaml.Node, top bool, parent *cwlProcess, step *yaml.Node) {
	p := &cwlProcess{Node: n, TopLevel: top, Parent: parent, Step: step, Doc: d}
	if v := mapGet(n, "id"); v != nil && v.Kind == yaml.ScalarNode {
		p.ID = normalizeID(v.Value)
	}
	if v := mapGet(n, "class"); v != nil && v.Kind == yaml.ScalarNode {
		p.Class = v.Value
	}
	if p.Class == "" {
		return
	}
	d.Processes = append(d.Processes, p)
	// Inline processes: steps[].run when it is a mapping.
	forEachStep(mapGet(n, "steps"), func(step *yaml.Node) {
		if run := mapGet(step, "run"); run != nil && run.Kind == yaml.MappingNode && mapGet(run, "$import") == nil {
			d.addProcess(run, false, p, step)
		}
	})
}

// normalizeID makes "#crop", "crop" and "file.cwl#crop" the same id.
func normalizeID(id string) string {
	if i := strings.LastIndexByte(id, '#'); i >= 0 {
		id = id[i+1:]
	}
	return id
}

// Find returns the process with id; with id "" it returns "main" in a
// $graph document (as cwltool runs it) and the process itself in a
// single-process document.
func (d *cwlDocument) Find(id string) (*cwlProcess, error) {
	id = normalizeID(id)
	if id == "" && d.graph {
		id = "main"
	}
	if id == "" {
		var tops []*cwlProcess
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
		ids := make([]string, 0, len(d.byID))
		for other := range d.byID {
			ids = append(ids, other)
		}
		sort.Strings(ids)
		msg := fmt.Sprintf("no process with id %q in %s", id, d.File)
		if s := builder.Suggest(id, ids); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		return nil, errors.New(msg)
	}
	if len(found) > 1 {
		return nil, fmt.Errorf("%s:%d: two processes with id %q (the other at line %d)", d.File, found[1].Node.Line, id, found[0].Node.Line)
	}
	return found[0], nil
}

// offset converts a node's line and column (1-based, counted in characters)
// to a byte offset in Data.
func (d *cwlDocument) offset(n *yaml.Node) int {
	if n.Line < 1 || n.Line > len(d.parsedLines) {
		return -1
	}
	off := d.parsedLines[n.Line-1]
	for col := 1; col < n.Column && off < len(d.parsed); col++ {
		_, size := utf8.DecodeRune(d.parsed[off:])
		off += size
	}
	// Every backslash dropped before off moves it one byte on in Data.
	return off + sort.SearchInts(d.removed, off+1)
}

// lineIndent returns the leading whitespace of the line holding offset off.
func (d *cwlDocument) lineIndent(off int) (start int, indent string) {
	off = min(max(off, 0), len(d.Data))
	start = bytes.LastIndexByte(d.Data[:off], '\n') + 1
	end := start
	for end < len(d.Data) && (d.Data[end] == ' ' || d.Data[end] == '\t') {
		end++
	}
	return start, string(d.Data[start:end])
}

// lineOf returns the 1-based line holding byte offset off.
func (d *cwlDocument) lineOf(off int) int {
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

// unwrapPathError drops the path an *fs.PathError repeats, since the caller
// names the file as project.toml wrote it.
func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// maxCWLSize bounds the CWL files cwlpatch reads: a packed workflow of 10000
// tools is about 2 MB, and parsing holds several times the file in memory.
const maxCWLSize = 64 << 20

func readCWL(path string) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	if st.Size() > maxCWLSize {
		return nil, fmt.Errorf("%d MB, larger than cwlpatch reads (limit %d MB)", st.Size()>>20, maxCWLSize>>20)
	}
	return os.ReadFile(path)
}
