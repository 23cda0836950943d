package cwlpatch

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// byteEdit replaces Length bytes at Offset with Text in Doc's file.
type byteEdit struct {
	Offset, Length int
	Text           string
	// Doc is the file the edit is for: the process's own, or the file it
	// $imports its DockerRequirement from.
	Doc *cwlDocument
}

// applyEdits returns data with non-overlapping edits applied, in one pass so that
// a file with thousands of edits costs no more than copying it once.
func applyEdits(data []byte, edits []byteEdit) []byte {
	sorted := append([]byteEdit(nil), edits...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Offset < sorted[j].Offset })
	size := len(data)
	for _, e := range sorted {
		size += len(e.Text) - e.Length
	}
	out := make([]byte, 0, size)
	pos := 0
	for _, e := range sorted {
		out = append(out, data[pos:e.Offset]...)
		out = append(out, e.Text...)
		pos = e.Offset + e.Length
	}
	return append(out, data[pos:]...)
}

// PinEdits returns the edits that make process p pull image, for a document
// checked on its own: every DockerRequirement.dockerPull under hints or
// requirements (through aliases and $imports) is rewritten, or, when there
// is none, a DockerRequirement is added to requirements in the form the
// document uses. Warnings name what may still defeat the pin: a step's or
// workflow's requirement over the process's hint.
func (d *cwlDocument) PinEdits(p *cwlProcess, image string) ([]byteEdit, []string, error) {
	s := singleSet(d)
	sites, err := processSites(p)
	if err != nil {
		return nil, nil, err
	}
	edits, overrides, err := s.pinEdits(p, sites, image)
	var warnings []string
	for _, o := range overrides {
		warnings = append(warnings, o.String())
	}
	return edits, warnings, err
}

// pinEdits is PinEdits within a set of documents, given the process's
// DockerRequirements (processSites); overrides are returned on their own,
// since --check treats them as errors.
func (s *set) pinEdits(p *cwlProcess, sites []site, image string) ([]byteEdit, []override, error) {
	var edits []byteEdit
	for _, st := range sites {
		e, err := st.pinEdit(p, image)
		if err != nil {
			return nil, nil, err
		}
		edits = append(edits, e)
	}
	if len(sites) == 0 {
		e, err := p.Doc.inject(p, image)
		if err != nil {
			return nil, nil, err
		}
		e.Doc = p.Doc
		return []byteEdit{e}, nil, nil
	}
	var overrides []override
	if hintOnly(sites) {
		overrides = s.overrides(p)
	}
	return edits, overrides, nil
}

// pinEdit rewrites one DockerRequirement's dockerPull, or says why it
// cannot be: cwltool would then run something cwlpatch did not write. A
// dockerImageId beside dockerPull is what cwltool runs (it pulls dockerPull,
// then runs the image of that id), so it is refused; dockerFile, dockerLoad
// and dockerImport are used only without a dockerPull.
func (st site) pinEdit(p *cwlProcess, image string) (byteEdit, error) {
	d := st.doc
	where := fmt.Sprintf("%s:%d: %s.DockerRequirement of %s", d.File, st.req.Line, st.section, p.Desc())
	if st.via != "" {
		where += " (from " + st.via + ")"
	}
	if st.pull == nil {
		var has []string
		for _, k := range []string{"dockerImageId", "dockerFile", "dockerLoad", "dockerImport"} {
			if mapGet(st.req, k) != nil {
				has = append(has, k)
			}
		}
		if len(has) > 0 {
			return byteEdit{}, fmt.Errorf("%s has %s and no dockerPull: cwltool would use that, not the built image; replace it with dockerPull", where, strings.Join(has, " and "))
		}
		return byteEdit{}, fmt.Errorf("%s has no dockerPull to pin", where)
	}
	if st.pull.Kind != yaml.ScalarNode {
		if inc := mapGet(st.pull, "$include"); inc != nil {
			return byteEdit{}, fmt.Errorf("%s: dockerPull is the text of %s ($include): write the image in place so that cwlpatch can pin it", where, inc.Value)
		}
		return byteEdit{}, fmt.Errorf("%s: dockerPull is not a string", where)
	}
	if id := mapGet(st.req, "dockerImageId"); id != nil && (id.Kind != yaml.ScalarNode || id.Value != image) {
		return byteEdit{}, fmt.Errorf("%s:%d: %s has dockerImageId %q beside dockerPull: cwltool runs that image, not the pinned one; remove dockerImageId", d.File, id.Line, p.Desc(), id.Value)
	}
	e, err := d.replaceScalar(st.pullKey, st.pull, image)
	if err != nil {
		return byteEdit{}, fmt.Errorf("%w (%s)", err, p.Desc())
	}
	e.Doc = d
	return e, nil
}

func forEachStep(steps *yaml.Node, f func(*yaml.Node)) {
	steps = deref(steps)
	if steps == nil {
		return
	}
	switch steps.Kind {
	case yaml.SequenceNode:
		for _, s := range steps.Content {
			f(deref(s))
		}
	case yaml.MappingNode:
		for i := 1; i < len(steps.Content); i += 2 {
			f(deref(steps.Content[i]))
		}
	}
}

// replaceScalar rewrites one scalar in its own quoting style. An empty value
// ("dockerPull:" with nothing after it) is written after its key's colon.
func (d *cwlDocument) replaceScalar(key, v *yaml.Node, value string) (byteEdit, error) {
	if v.Style == 0 && v.Value == "" {
		off := d.offset(key)
		if off >= 0 && key.Style == 0 && bytes.HasPrefix(d.Data[off:], []byte(key.Value)) {
			colon := off + len(key.Value)
			for colon < len(d.Data) && d.Data[colon] == ' ' {
				colon++
			}
			if colon < len(d.Data) && d.Data[colon] == ':' && nothingBeforeLineEnd(d.Data[colon+1:]) {
				return byteEdit{Offset: colon + 1, Text: " " + value}, nil
			}
		}
		return byteEdit{}, fmt.Errorf("%s:%d: dockerPull is empty in a form cwlpatch cannot fill in", d.File, v.Line)
	}
	start := d.offset(v)
	if start < 0 || start >= len(d.Data) {
		return byteEdit{}, fmt.Errorf("%s:%d: cannot locate dockerPull", d.File, v.Line)
	}
	// The node starts at its properties ("&img", "!!str"); the value after.
	for start < len(d.Data) && (v.Anchor != "" || v.Tag != "") && (d.Data[start] == '&' || d.Data[start] == '!') {
		for start < len(d.Data) && !isBlank(d.Data[start]) {
			start++
		}
		for start < len(d.Data) && (d.Data[start] == ' ' || d.Data[start] == '\t') {
			start++
		}
	}
	if start >= len(d.Data) {
		return byteEdit{}, fmt.Errorf("%s:%d: cannot locate dockerPull", d.File, v.Line)
	}
	if v.Value == "" && v.Style&(yaml.LiteralStyle|yaml.FoldedStyle|yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) == 0 {
		// "dockerPull: !!str" or "dockerPull: &a": the value would land
		// among the properties.
		return byteEdit{}, fmt.Errorf("%s:%d: dockerPull is empty in a form cwlpatch cannot fill in", d.File, v.Line)
	}
	style := v.Style &^ yaml.TaggedStyle
	end := -1
	var text string
	switch {
	case style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 && (d.Data[start] == '|' || d.Data[start] == '>'):
		return d.replaceBlock(key, v, start, value)
	case style&yaml.DoubleQuotedStyle != 0 && d.Data[start] == '"':
		for j := start + 1; j < len(d.Data); j++ {
			if d.Data[j] == '\\' {
				j++
				continue
			}
			if d.Data[j] == '"' {
				end = j + 1
				break
			}
		}
		text = quoteDouble(value)
	case style&yaml.SingleQuotedStyle != 0 && d.Data[start] == '\'':
		for j := start + 1; j < len(d.Data); j++ {
			if d.Data[j] == '\'' {
				if j+1 < len(d.Data) && d.Data[j+1] == '\'' {
					j++
					continue
				}
				end = j + 1
				break
			}
		}
		text = "'" + strings.ReplaceAll(value, "'", "''") + "'"
	case style == 0 && bytes.HasPrefix(d.Data[start:], []byte(v.Value)):
		end = start + len(v.Value)
		text = value
		if d.JSON || !plainSafe(value) { // "dockerPull": null stays JSON
			text = quoteDouble(value)
		}
	}
	if end < 0 {
		return byteEdit{}, fmt.Errorf("%s:%d: dockerPull is written in a form cwlpatch cannot rewrite in place", d.File, v.Line)
	}
	return byteEdit{Offset: start, Length: end - start, Text: text}, nil
}

// replaceBlock rewrites a block scalar ("dockerPull: |-" and its indented
// lines) as one line in its own indentation, keeping the header's style and
// comment. The chomping indicator becomes "-": the value must be the image
// and nothing else, not the image and a line break.
func (d *cwlDocument) replaceBlock(key, v *yaml.Node, start int, value string) (byteEdit, error) {
	data := d.Data
	h := start + 1
	for h < len(data) && (data[h] == '-' || data[h] == '+' || data[h] >= '1' && data[h] <= '9') {
		h++
	}
	lineEnd := h
	for lineEnd < len(data) && data[lineEnd] != '\n' && data[lineEnd] != '\r' {
		lineEnd++
	}
	if !nothingBeforeLineEnd(data[h:lineEnd]) || lineEnd == len(data) {
		return byteEdit{}, fmt.Errorf("%s:%d: dockerPull is a block scalar cwlpatch cannot rewrite in place", d.File, v.Line)
	}
	// The key's column is the indentation of the mapping holding it; the
	// content is indented deeper (a "- " item's key sits right of its dash).
	keyCol := 0
	if key != nil && key.Column > 0 {
		keyCol = key.Column - 1
	} else {
		_, ind := d.lineIndent(start)
		keyCol = len(ind)
	}
	indent := strings.Repeat(" ", keyCol+2)
	// The content: every following line that is blank or indented deeper
	// than the key. The edit ends with its last line that holds anything,
	// even only spaces; empty lines after it stay (the "-" indicator strips
	// them from the value anyway).
	end := lineEnd
	first := true
	for pos := lineEnd + len(d.Newline); pos < len(data); {
		next := bytes.IndexByte(data[pos:], '\n')
		stop := len(data)
		if next >= 0 {
			stop = pos + next + 1
		}
		line := strings.TrimRight(string(data[pos:stop]), "\r\n")
		body := strings.TrimLeft(line, " ")
		if body == "" && line != "" {
			// Spaces only: content in a block scalar when more indented than
			// the rest, so it goes with the old value.
			end = pos + len(line)
		}
		if body != "" {
			lead := len(line) - len(body)
			if lead <= keyCol {
				break
			}
			if first {
				indent, first = line[:lead], false
			}
			end = pos + len(line)
		}
		pos = stop
	}
	text := string(data[start:start+1]) + "-" + string(data[h:lineEnd]) + d.Newline + indent + value
	return byteEdit{Offset: start, Length: end - start, Text: text}, nil
}

// quoteDouble writes value as a double-quoted scalar, valid in YAML and JSON.
func quoteDouble(value string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(value) + `"`
}

// plainSafe reports whether value reads back as itself when written as a
// plain scalar, in block and flow context alike. Image references nearly
// always are; a name that starts with an indicator ("!", "&", "*", ...) or
// holds ": ", " #" or a flow character is quoted instead.
func plainSafe(value string) bool {
	if value == "" {
		return false
	}
	c := value[0]
	if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
		return false
	}
	if strings.ContainsAny(value, ",[]{}#'\"\\ \t\r\n") || strings.HasSuffix(value, ":") {
		return false
	}
	// A digest-pinned reference of the name grammar's characters is always
	// a string: "@sha256:" makes it no number, boolean, null or date.
	if strings.Contains(value, "@sha256:") && strings.Trim(value, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/:@") == "" {
		return true
	}
	// Read as YAML resolves it, not into a string (which would take
	// "true" or "1.5" as the text they spell).
	var m map[string]any
	if yaml.Unmarshal([]byte("v: "+value), &m) != nil {
		return false
	}
	s, ok := m["v"].(string)
	return ok && s == value
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// nothingBeforeLineEnd reports whether b holds only blanks, then a comment,
// a line break or the end. An empty value with a tag or an anchor
// ("dockerPull: !", "dockerPull: &a") does not: writing the image after the
// colon would leave the tag behind it, inside the new value.
func nothingBeforeLineEnd(b []byte) bool {
	for _, c := range b {
		switch c {
		case ' ', '\t':
		case '#', '\n', '\r':
			return true
		default:
			return false
		}
	}
	return true
}

// inject adds a DockerRequirement to the process's requirements.
func (d *cwlDocument) inject(p *cwlProcess, image string) (byteEdit, error) {
	nl := d.Newline
	// image as a YAML plain scalar when it reads back as itself, else quoted;
	// always quoted in JSON.
	pull, quoted := image, quoteDouble(image)
	if d.JSON || !plainSafe(image) {
		pull = quoted
	}
	reqs := mapGet(p.Node, "requirements")
	where := fmt.Sprintf("%s:%d", d.File, p.Node.Line)
	if raw, _ := rawEntry(p.Node, "requirements"); raw != nil && (raw.Kind == yaml.AliasNode || raw.Anchor != "" || importRef(raw) != "") {
		// Adding to a shared or imported list would change it for every
		// process that uses it.
		return byteEdit{}, fmt.Errorf("%s: %s has no DockerRequirement and its requirements are shared (an alias, an anchor or an $import): add a DockerRequirement with a dockerPull to it, and cwlpatch will pin that", where, p.Desc())
	}
	if p.Node.Anchor != "" {
		return byteEdit{}, fmt.Errorf("%s: %s has no DockerRequirement and is itself anchored for reuse: add a DockerRequirement with a dockerPull to it, and cwlpatch will pin that", where, p.Desc())
	}
	listForm := false
	if reqs != nil {
		listForm = reqs.Kind == yaml.SequenceNode
	} else if h := mapGet(p.Node, "hints"); h != nil {
		listForm = h.Kind == yaml.SequenceNode
	} else {
		listForm = d.JSON // cwltool --pack writes lists
	}
	entry := func(flow bool) string {
		switch {
		case d.JSON && listForm:
			return `{"class": "DockerRequirement", "dockerPull": ` + quoted + `}`
		case d.JSON:
			return `"DockerRequirement": {"dockerPull": ` + quoted + `}`
		case flow && listForm:
			return "{class: DockerRequirement, dockerPull: " + pull + "}"
		default:
			return "DockerRequirement: {dockerPull: " + pull + "}"
		}
	}
	if reqs != nil {
		if reqs.Style&yaml.FlowStyle != 0 || len(reqs.Content) == 0 {
			off := d.offset(reqs)
			if off < 0 || off >= len(d.Data) || (d.Data[off] != '{' && d.Data[off] != '[') {
				return byteEdit{}, fmt.Errorf("%s: cannot locate requirements of %q", where, p.ID)
			}
			return d.insertFlow(reqs, off, 0, entry(true)), nil
		}
		first := reqs.Content[0]
		keyOff := d.offset(first)
		if listForm && first.Style&yaml.FlowStyle == 0 {
			// "- class: X": the padding is up to the key; "- {class: X}"
			// has none of its own.
			keyOff = d.offset(firstKey(first))
		}
		lineStart, indent := d.lineIndent(keyOff)
		parentOff := d.offset(keyNode(p.Node, "requirements"))
		_, parentIndent := d.lineIndent(parentOff)
		step := strings.Repeat(" ", max(2, len(indent)-len(parentIndent)))
		if listForm {
			// "  - class: X": the dash sits inside indent's line, before the key.
			dash := bytes.LastIndexByte(d.Data[lineStart:keyOff], '-')
			if dash < 0 || strings.TrimSpace(string(d.Data[lineStart:lineStart+dash])) != "" {
				return byteEdit{}, fmt.Errorf("%s: requirements of %q are laid out in a way cwlpatch cannot extend", where, p.ID)
			}
			// "-   class: X" keeps its padding; a bare "-" item gets "- ".
			pad := strings.Repeat(" ", max(2, keyOff-(lineStart+dash)))
			ind := string(d.Data[lineStart : lineStart+dash])
			text := ind + "-" + pad[1:] + "class: DockerRequirement" + nl + ind + pad + "dockerPull: " + pull + nl
			return byteEdit{Offset: lineStart, Text: text}, nil
		}
		if strings.TrimSpace(string(d.Data[lineStart:keyOff])) != "" {
			return byteEdit{}, fmt.Errorf("%s: requirements of %q are laid out in a way cwlpatch cannot extend", where, p.ID)
		}
		text := indent + "DockerRequirement:" + nl + indent + step + "dockerPull: " + pull + nl
		return byteEdit{Offset: lineStart, Text: text}, nil
	}
	// No requirements key: add one.
	at := 2 // the first key after the identifying ones (class, id, ...)
	for at < len(p.Node.Content) && leadingKeys[p.Node.Content[at].Value] {
		at += 2
	}
	if p.Node.Style&yaml.FlowStyle != 0 {
		off := d.offset(p.Node)
		if off < 0 || off >= len(d.Data) || d.Data[off] != '{' {
			return byteEdit{}, fmt.Errorf("%s: cannot locate process %q", where, p.ID)
		}
		var text string
		switch {
		case d.JSON && listForm:
			text = `"requirements": [` + entry(true) + `]`
		case d.JSON:
			text = `"requirements": {` + entry(true) + `}`
		case listForm:
			text = "requirements: [" + entry(true) + "]"
		default:
			text = "requirements: {" + entry(true) + "}"
		}
		return d.insertFlow(p.Node, off, at, text), nil
	}
	// Insert before that key; never before the first key, which may share
	// the line of a "- " list item.
	if at >= len(p.Node.Content) {
		return byteEdit{}, fmt.Errorf("%s: process %q has no key to add requirements before", where, p.ID)
	}
	off := d.offset(p.Node.Content[at])
	lineStart, indent := d.lineIndent(off)
	if strings.TrimSpace(string(d.Data[lineStart:off])) != "" {
		return byteEdit{}, fmt.Errorf("%s: process %q is laid out in a way cwlpatch cannot extend", where, p.ID)
	}
	step := "  "
	if listForm {
		return byteEdit{Offset: lineStart, Text: indent + "requirements:" + nl + indent + step + "- class: DockerRequirement" + nl + indent + step + "  dockerPull: " + pull + nl}, nil
	}
	return byteEdit{Offset: lineStart, Text: indent + "requirements:" + nl + indent + step + "DockerRequirement:" + nl + indent + step + step + "dockerPull: " + pull + nl}, nil
}

// insertFlow adds an entry to a flow collection ({...} or [...], which
// includes all JSON) opening at open, before its content node at (or first,
// when at is past the end). When that node starts its own line, as in
// pretty-printed JSON, the new entry gets a line of its own with the same
// indentation; otherwise it goes on the same line, just before it.
func (d *cwlDocument) insertFlow(coll *yaml.Node, open, at int, text string) byteEdit {
	if len(coll.Content) == 0 {
		return byteEdit{Offset: open + 1, Text: text}
	}
	if at >= len(coll.Content) {
		at = 0
	}
	off := d.offset(coll.Content[at])
	if off <= open || off >= len(d.Data) {
		return byteEdit{Offset: open + 1, Text: text + ", "}
	}
	lineStart, indent := d.lineIndent(off)
	if lineStart > open && lineStart+len(indent) == off {
		return byteEdit{Offset: lineStart, Text: indent + text + "," + d.Newline}
	}
	return byteEdit{Offset: off, Text: text + ", "}
}

// leadingKeys stay at the top of a process when requirements are added.
var leadingKeys = map[string]bool{"class": true, "id": true, "cwlVersion": true, "label": true, "doc": true, "$namespaces": true}

func keyNode(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i]
		}
	}
	return m
}

func firstKey(n *yaml.Node) *yaml.Node {
	if n.Kind == yaml.MappingNode && len(n.Content) > 0 {
		return n.Content[0]
	}
	return n
}
