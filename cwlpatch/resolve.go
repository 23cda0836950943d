package cwlpatch

import (
	"fmt"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// cwltool reads CWL with ruamel.yaml and schema-salad, so a DockerRequirement
// may reach a process through a YAML alias (`hints: *rio`), a merge key
// (`<<: *rio`) or an `$import` of another file. What cwltool runs is what
// those resolve to, so that is what cwlpatch finds and edits: the one scalar
// every alias shares, in whichever file holds it.

// deref follows an alias to the node it names.
func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// mapGet returns the value of key in a mapping node (through aliases and
// merge keys), or nil.
func mapGet(n *yaml.Node, key string) *yaml.Node {
	if k, _ := mapEntry(n, key); k != nil {
		return k
	}
	return nil
}

// mapEntry returns the value and the key node of key in a mapping, looking
// through aliases and, when the mapping lacks the key, into its merge keys.
func mapEntry(n *yaml.Node, key string) (value, keyNode *yaml.Node) {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil, nil
	}
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		switch {
		case k.Value == key && k.Kind == yaml.ScalarNode:
			return deref(n.Content[i+1]), k
		case k.Value == "<<" && k.Tag == "!!merge":
			merges = append(merges, deref(n.Content[i+1]))
		}
	}
	for _, m := range merges {
		sources := []*yaml.Node{m}
		if m.Kind == yaml.SequenceNode {
			sources = m.Content
		}
		for _, src := range sources {
			if v, k := mapEntry(src, key); v != nil {
				return v, k
			}
		}
	}
	return nil, nil
}

// importRef returns the file an `{$import: FILE}` node names, or "".
func importRef(n *yaml.Node) string {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode || len(n.Content) != 2 || n.Content[0].Value != "$import" {
		return ""
	}
	if v := deref(n.Content[1]); v.Kind == yaml.ScalarNode {
		return v.Value
	}
	return ""
}

// resolved is a node and the file it is written in, which differs from the
// process's file once an $import has been followed.
type resolved struct {
	doc  *cwlDocument
	node *yaml.Node
	// via names the $import that led here ("docker.yml, imported at
	// app.cwl:12"), "" when none did.
	via string
}

// follow resolves n, loading the file when it is an $import.
func (d *cwlDocument) follow(n *yaml.Node) (resolved, error) {
	n = deref(n)
	ref := importRef(n)
	if ref == "" {
		return resolved{d, n, ""}, nil
	}
	if d.imports == nil {
		d.imports = singleSet(d).importer
	}
	imp, err := d.imports(d, ref)
	if err != nil {
		return resolved{}, fmt.Errorf("%s:%d: $import %s: %v", d.File, n.Line, ref, err)
	}
	return resolved{imp, imp.root, fmt.Sprintf("%s, imported at %s:%d", imp.File, d.File, n.Line)}, nil
}

// parseFragment parses a file that is not a process: an imported
// requirement, or list of them.
func parseFragment(file string, data []byte) (*cwlDocument, error) {
	return newDocument(file, data)
}

// site is one DockerRequirement that applies to a process: where it is
// written, and its dockerPull.
type site struct {
	doc     *cwlDocument // the file it is written in
	section string       // "hints" or "requirements"
	req     *yaml.Node
	pull    *yaml.Node // dockerPull's value; nil when absent
	pullKey *yaml.Node
	// anchor is the first anchored node on the way from the section to the
	// scalar: other processes may share everything below it.
	anchor *yaml.Node
	via    string // the $import followed, if any
}

// sites returns the DockerRequirements of a process node (a process, or a
// workflow step) in section, in the order cwltool reads them.
func (d *cwlDocument) sites(owner *yaml.Node, section string) ([]site, error) {
	return d.classSites(owner, section, "DockerRequirement")
}

// classSites returns the requirements of CWL class name of a process node
// in section, in the order cwltool reads them ($import followed, the class
// read as cwltool reads it).
func (d *cwlDocument) classSites(owner *yaml.Node, section, name string) ([]site, error) {
	sec := mapGet(owner, section)
	if sec == nil {
		return nil, nil
	}
	r, err := d.follow(sec)
	if err != nil {
		return nil, err
	}
	var out []site
	add := func(in resolved, req *yaml.Node) {
		s := site{doc: in.doc, section: section, req: req, via: in.via}
		s.pull, s.pullKey = mapEntry(req, "dockerPull")
		s.anchor = anchored(r.node, req, s.pull)
		out = append(out, s)
	}
	// follow resolves an entry of the section, keeping the $import that led
	// to the section itself when the entry has none of its own.
	follow := func(n *yaml.Node) (resolved, error) {
		in, err := r.doc.follow(n)
		if err == nil && in.via == "" {
			in.via = r.via
		}
		return in, err
	}
	switch r.node.Kind {
	case yaml.MappingNode:
		// Map form: the key is the class (schema-salad's mapSubject), so
		// "cwl:DockerRequirement" as a key is one too. schema-salad makes
		// the list in the keys' sorted order, whatever the file's, and
		// the last one wins.
		pairs := mapPairs(r.node)
		sort.SliceStable(pairs, func(i, j int) bool { return pairs[i][0].Value < pairs[j][0].Value })
		for _, kv := range pairs {
			if !d.isClass(kv[0].Value, name) {
				continue
			}
			in, err := follow(kv[1])
			if err != nil {
				return nil, err
			}
			if in.node.Kind == yaml.MappingNode {
				add(in, in.node)
			}
		}
	case yaml.SequenceNode:
		for _, item := range r.node.Content {
			in, err := follow(item)
			if err != nil {
				return nil, err
			}
			// An imported list is spliced into the one importing it.
			items := []*yaml.Node{in.node}
			if in.node.Kind == yaml.SequenceNode {
				items = in.node.Content
			}
			for _, it := range items {
				if c := mapGet(it, "class"); c != nil && c.Kind == yaml.ScalarNode && d.isClass(c.Value, name) {
					add(in, deref(it))
				}
			}
		}
	}
	return out, nil
}

// anchored returns the first node that carries an anchor: what aliases
// elsewhere may share.
func anchored(nodes ...*yaml.Node) *yaml.Node {
	for _, n := range nodes {
		if n != nil && n.Anchor != "" {
			return n
		}
	}
	return nil
}

// rawEntry is mapEntry without following the value's alias or merge keys:
// whether a value is shared is told by the alias itself.
func rawEntry(n *yaml.Node, key string) (value, keyNode *yaml.Node) {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1], n.Content[i]
		}
	}
	return nil, nil
}

// mapPairs lists a mapping's key and value nodes in order, the entries of
// its merge keys after its own (those the mapping does not override), as
// ruamel.yaml reads them.
func mapPairs(n *yaml.Node) [][2]*yaml.Node {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	var own, merged [][2]*yaml.Node
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if k.Value == "<<" && k.Tag == "!!merge" {
			m := deref(n.Content[i+1])
			sources := []*yaml.Node{m}
			if m != nil && m.Kind == yaml.SequenceNode {
				sources = m.Content
			}
			for _, src := range sources {
				merged = append(merged, mapPairs(src)...)
			}
			continue
		}
		seen[k.Value] = true
		own = append(own, [2]*yaml.Node{k, deref(n.Content[i+1])})
	}
	for _, kv := range merged {
		if !seen[kv[0].Value] {
			seen[kv[0].Value] = true
			own = append(own, kv)
		}
	}
	return own
}

// cwlNamespace is the CWL vocabulary's URI: a class written as a prefix
// bound to it, or as the full URI, is the CWL class of that name.
const cwlNamespace = "https://w3id.org/cwl/cwl#"

// isDockerClass reports whether a requirement's class (or its key, in map
// form) is DockerRequirement as cwltool reads it (isClass).
func (d *cwlDocument) isDockerClass(class string) bool {
	return d.isClass(class, "DockerRequirement")
}

// isClass reports whether a requirement's class (or its key, in map form)
// is the CWL class name as cwltool reads it: schema-salad expands the class
// against the document's $namespaces and the CWL schema's own ("cwl"),
// then shortens CWL's vocabulary back to the bare name. So
// "cwl:DockerRequirement", "x:DockerRequirement" with x bound to CWL's URI,
// and "https://w3id.org/cwl/cwl#DockerRequirement" are all the one cwltool
// applies.
func (d *cwlDocument) isClass(class, name string) bool {
	if class == name || class == cwlNamespace+name {
		return true
	}
	prefix, local, ok := strings.Cut(class, ":")
	if !ok || local != name || strings.HasPrefix(local, "//") {
		return false
	}
	return d.namespace(prefix) == cwlNamespace
}

// namespace is the URI a prefix is bound to: the document's $namespaces,
// else the prefixes the CWL schema itself declares. (A requirement
// $import-ed from another file is read with the importing document's.)
func (d *cwlDocument) namespace(prefix string) string {
	if ns := mapGet(d.root, "$namespaces"); ns != nil {
		if v := mapGet(ns, prefix); v != nil && v.Kind == yaml.ScalarNode {
			return v.Value
		}
	}
	return schemaNamespaces[prefix]
}

// schemaNamespaces are the prefixes the CWL v1.0–v1.2 schemas bind, which
// schema-salad knows in every document without a $namespaces of its own.
var schemaNamespaces = map[string]string{
	"cwl":  cwlNamespace,
	"sld":  "https://w3id.org/cwl/salad#",
	"dct":  "http://purl.org/dc/terms/",
	"rdf":  "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
	"rdfs": "http://www.w3.org/2000/01/rdf-schema#",
	"xsd":  "http://www.w3.org/2001/XMLSchema#",
}
