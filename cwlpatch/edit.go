package cwlpatch

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Edit replaces Length bytes at Offset with Text.
type Edit struct {
	Offset, Length int
	Text           string
}

// Apply returns data with non-overlapping edits applied, in one pass so that
// a file with thousands of edits costs no more than copying it once.
func Apply(data []byte, edits []Edit) []byte {
	sorted := append([]Edit(nil), edits...)
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

// PinEdits returns the edits that make process p pull image: every
// DockerRequirement.dockerPull under hints or requirements is rewritten, or,
// when there is none, a DockerRequirement is added to requirements in the
// form the document uses. Warnings name what may still defeat the pin.
func (d *Document) PinEdits(p *Process, image string) ([]Edit, []string, error) {
	var edits []Edit
	var warnings []string
	for _, section := range []string{"hints", "requirements"} {
		req := findRequirement(mapGet(p.Node, section), "DockerRequirement")
		if req == nil {
			continue
		}
		pull := mapGet(req, "dockerPull")
		if pull == nil || pull.Kind != yaml.ScalarNode {
			return nil, nil, fmt.Errorf("%s:%d: %s.DockerRequirement of %q has no dockerPull to pin", d.File, req.Line, section, p.ID)
		}
		if id := mapGet(req, "dockerImageId"); id != nil {
			warnings = append(warnings, fmt.Sprintf("%s:%d: %q has dockerImageId %q beside dockerPull: cwltool runs that image, not the pinned one", d.File, id.Line, p.ID, id.Value))
		}
		e, err := d.replaceScalar(keyNode(req, "dockerPull"), pull, image)
		if err != nil {
			return nil, nil, err
		}
		edits = append(edits, e)
	}
	if len(edits) == 0 {
		e, err := d.inject(p, image)
		if err != nil {
			return nil, nil, err
		}
		edits = append(edits, e)
	}
	warnings = append(warnings, d.overrides(p)...)
	return edits, warnings, nil
}

// findRequirement finds class in a hints/requirements node of either form:
// a mapping keyed by class, or a list of objects with a class field.
func findRequirement(section *yaml.Node, class string) *yaml.Node {
	if section == nil {
		return nil
	}
	switch section.Kind {
	case yaml.MappingNode:
		if v := mapGet(section, class); v != nil && v.Kind == yaml.MappingNode {
			return v
		}
	case yaml.SequenceNode:
		for _, item := range section.Content {
			if c := mapGet(item, "class"); c != nil && c.Value == class {
				return item
			}
		}
	}
	return nil
}

// overrides warns about DockerRequirements in enclosing workflows' or steps'
// requirements, which CWL lets override the tool's own hint.
func (d *Document) overrides(p *Process) []string {
	var out []string
	for _, parent := range p.Parents {
		if r := findRequirement(mapGet(parent.Node, "requirements"), "DockerRequirement"); r != nil {
			out = append(out, fmt.Sprintf("%s:%d: workflow %q requires a DockerRequirement that overrides the pin of %q", d.File, r.Line, parent.ID, p.ID))
		}
	}
	if p.ID == "" {
		return out
	}
	for _, r := range d.stepsRunning()[p.ID] {
		if req := findRequirement(mapGet(r.step, "requirements"), "DockerRequirement"); req != nil {
			out = append(out, fmt.Sprintf("%s:%d: a step of workflow %q requires a DockerRequirement that overrides the pin of %q", d.File, req.Line, r.workflow.ID, p.ID))
		}
	}
	// Once per workflow, however many of its steps run the tool.
	seen := map[*Process]bool{}
	for _, r := range d.stepsRunning()[p.ID] {
		if seen[r.workflow] {
			continue
		}
		seen[r.workflow] = true
		if req := findRequirement(mapGet(r.workflow.Node, "requirements"), "DockerRequirement"); req != nil {
			out = append(out, fmt.Sprintf("%s:%d: workflow %q requires a DockerRequirement that overrides the pin of %q", d.File, req.Line, r.workflow.ID, p.ID))
		}
	}
	return out
}

// stepRun is a workflow step that runs a process by reference.
type stepRun struct {
	workflow *Process
	step     *yaml.Node
}

// stepsRunning indexes, once per document, the steps that run each process id
// by reference ("run: '#crop'"), so that checking n tools costs one walk of
// the workflows, not n.
func (d *Document) stepsRunning() map[string][]stepRun {
	if d.runners != nil {
		return d.runners
	}
	d.runners = map[string][]stepRun{}
	for _, wf := range d.Processes {
		if wf.Class != "Workflow" {
			continue
		}
		forEachStep(mapGet(wf.Node, "steps"), func(step *yaml.Node) {
			if run := mapGet(step, "run"); run != nil && run.Kind == yaml.ScalarNode {
				id := NormalizeID(run.Value)
				d.runners[id] = append(d.runners[id], stepRun{wf, step})
			}
		})
	}
	return d.runners
}

func forEachStep(steps *yaml.Node, f func(*yaml.Node)) {
	if steps == nil {
		return
	}
	switch steps.Kind {
	case yaml.SequenceNode:
		for _, s := range steps.Content {
			f(s)
		}
	case yaml.MappingNode:
		for i := 1; i < len(steps.Content); i += 2 {
			f(steps.Content[i])
		}
	}
}

// replaceScalar rewrites one scalar in its own quoting style. An empty value
// ("dockerPull:" with nothing after it) is written after its key's colon.
func (d *Document) replaceScalar(key, v *yaml.Node, value string) (Edit, error) {
	if v.Style == 0 && v.Value == "" {
		off := d.offset(key)
		if off >= 0 && key.Style == 0 && bytes.HasPrefix(d.Data[off:], []byte(key.Value)) {
			colon := off + len(key.Value)
			for colon < len(d.Data) && d.Data[colon] == ' ' {
				colon++
			}
			if colon < len(d.Data) && d.Data[colon] == ':' && nothingBeforeLineEnd(d.Data[colon+1:]) {
				return Edit{Offset: colon + 1, Text: " " + value}, nil
			}
		}
		return Edit{}, fmt.Errorf("%s:%d: dockerPull is empty in a form cwlpatch cannot fill in", d.File, v.Line)
	}
	start := d.offset(v)
	if start < 0 || start >= len(d.Data) {
		return Edit{}, fmt.Errorf("%s:%d: cannot locate dockerPull", d.File, v.Line)
	}
	end := -1
	var text string
	switch {
	case v.Style&yaml.DoubleQuotedStyle != 0 && d.Data[start] == '"':
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
		text = `"` + value + `"`
	case v.Style&yaml.SingleQuotedStyle != 0 && d.Data[start] == '\'':
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
	case v.Style == 0 && bytes.HasPrefix(d.Data[start:], []byte(v.Value)):
		end = start + len(v.Value)
		text = value
		if d.JSON { // "dockerPull": null stays JSON
			text = `"` + value + `"`
		}
	}
	if end < 0 {
		return Edit{}, fmt.Errorf("%s:%d: dockerPull is written in a form cwlpatch cannot rewrite in place", d.File, v.Line)
	}
	return Edit{Offset: start, Length: end - start, Text: text}, nil
}

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
func (d *Document) inject(p *Process, image string) (Edit, error) {
	nl := d.Newline
	reqs := mapGet(p.Node, "requirements")
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
			return `{"class": "DockerRequirement", "dockerPull": "` + image + `"}`
		case d.JSON:
			return `"DockerRequirement": {"dockerPull": "` + image + `"}`
		case flow && listForm:
			return "{class: DockerRequirement, dockerPull: " + image + "}"
		default:
			return "DockerRequirement: {dockerPull: " + image + "}"
		}
	}
	where := fmt.Sprintf("%s:%d", d.File, p.Node.Line)
	if reqs != nil {
		if reqs.Style&yaml.FlowStyle != 0 || len(reqs.Content) == 0 {
			off := d.offset(reqs)
			if off < 0 || off >= len(d.Data) || (d.Data[off] != '{' && d.Data[off] != '[') {
				return Edit{}, fmt.Errorf("%s: cannot locate requirements of %q", where, p.ID)
			}
			return d.insertFlow(reqs, off, 0, entry(true)), nil
		}
		first := reqs.Content[0]
		keyOff := d.offset(first)
		if listForm {
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
				return Edit{}, fmt.Errorf("%s: requirements of %q are laid out in a way cwlpatch cannot extend", where, p.ID)
			}
			// "-   class: X" keeps its padding; a bare "-" item gets "- ".
			pad := strings.Repeat(" ", max(2, keyOff-(lineStart+dash)))
			ind := string(d.Data[lineStart : lineStart+dash])
			text := ind + "-" + pad[1:] + "class: DockerRequirement" + nl + ind + pad + "dockerPull: " + image + nl
			return Edit{Offset: lineStart, Text: text}, nil
		}
		if strings.TrimSpace(string(d.Data[lineStart:keyOff])) != "" {
			return Edit{}, fmt.Errorf("%s: requirements of %q are laid out in a way cwlpatch cannot extend", where, p.ID)
		}
		text := indent + "DockerRequirement:" + nl + indent + step + "dockerPull: " + image + nl
		return Edit{Offset: lineStart, Text: text}, nil
	}
	// No requirements key: add one.
	at := 2 // the first key after the identifying ones (class, id, ...)
	for at < len(p.Node.Content) && leadingKeys[p.Node.Content[at].Value] {
		at += 2
	}
	if p.Node.Style&yaml.FlowStyle != 0 {
		off := d.offset(p.Node)
		if off < 0 || off >= len(d.Data) || d.Data[off] != '{' {
			return Edit{}, fmt.Errorf("%s: cannot locate process %q", where, p.ID)
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
		return Edit{}, fmt.Errorf("%s: process %q has no key to add requirements before", where, p.ID)
	}
	off := d.offset(p.Node.Content[at])
	lineStart, indent := d.lineIndent(off)
	if strings.TrimSpace(string(d.Data[lineStart:off])) != "" {
		return Edit{}, fmt.Errorf("%s: process %q is laid out in a way cwlpatch cannot extend", where, p.ID)
	}
	step := "  "
	if listForm {
		return Edit{Offset: lineStart, Text: indent + "requirements:" + nl + indent + step + "- class: DockerRequirement" + nl + indent + step + "  dockerPull: " + image + nl}, nil
	}
	return Edit{Offset: lineStart, Text: indent + "requirements:" + nl + indent + step + "DockerRequirement:" + nl + indent + step + step + "dockerPull: " + image + nl}, nil
}

// insertFlow adds an entry to a flow collection ({...} or [...], which
// includes all JSON) opening at open, before its content node at (or first,
// when at is past the end). When that node starts its own line, as in
// pretty-printed JSON, the new entry gets a line of its own with the same
// indentation; otherwise it goes on the same line, just before it.
func (d *Document) insertFlow(coll *yaml.Node, open, at int, text string) Edit {
	if len(coll.Content) == 0 {
		return Edit{Offset: open + 1, Text: text}
	}
	if at >= len(coll.Content) {
		at = 0
	}
	off := d.offset(coll.Content[at])
	if off <= open || off >= len(d.Data) {
		return Edit{Offset: open + 1, Text: text + ", "}
	}
	lineStart, indent := d.lineIndent(off)
	if lineStart > open && lineStart+len(indent) == off {
		return Edit{Offset: lineStart, Text: indent + text + "," + d.Newline}
	}
	return Edit{Offset: off, Text: text + ", "}
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
