package cwlpatch

import (
	"fmt"

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
		v := mapGet(r.node, "DockerRequirement")
		if v == nil {
			return nil, nil
		}
		in, err := follow(v)
		if err != nil {
			return nil, err
		}
		if in.node.Kind == yaml.MappingNode {
			add(in, in.node)
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
				if c := mapGet(it, "class"); c != nil && c.Value == "DockerRequirement" {
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
