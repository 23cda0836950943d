package cwlpatch

import (
	"fmt"

	"gopkg.in/yaml.v3"

	"github.com/eoap/cwlbuild/builder"
)

// verify is the post-condition of Plan: the planned contents, loaded again
// as a package, must have every pinned process resolve to exactly its pin,
// and every changed file must read, node for node, as it did, but for those
// pins and the DockerRequirements added to hold them. A failure is a bug in
// cwlpatch, reported before anything is written.
func verify(p *builder.Plan, res *edits, matches []match, olds []*cwlDocument) error {
	s := newSet(p)
	s.overlay = map[string][]byte{}
	for _, c := range res.Changes {
		s.overlay[c.Path] = c.New
	}
	s.loadAll()
	targets := s.targets()
	if len(s.errs) > 0 {
		return fmt.Errorf("cwlpatch: the pinned files do not load again (a bug; nothing was written):\n%w", joinErrors(s.errs))
	}
	want := map[*builder.Artifact]string{}
	for _, m := range matches {
		want[m.Tool] = m.Ref
	}
	var errs []error
	pins := map[*yaml.Node]bool{}
	for _, tg := range targets {
		ref, ok := want[tg.tool]
		if !ok {
			continue
		}
		for _, proc := range tg.procs {
			sites, err := processSites(proc)
			if err == nil && len(sites) == 0 {
				err = fmt.Errorf("%s:%d: %s has no DockerRequirement", proc.Doc.File, proc.Node.Line, proc.Name())
			}
			for _, st := range sites {
				if st.pull == nil || st.pull.Kind != yaml.ScalarNode || st.pull.Value != ref {
					err = fmt.Errorf("%s:%d: %s does not read %s", st.doc.File, st.req.Line, proc.Name(), ref)
				} else {
					pins[st.pull] = true
				}
			}
			if err != nil {
				errs = append(errs, err)
			}
		}
	}
	for _, old := range olds {
		now, err := s.load(old.path, old.File, old.isFragment())
		if err == nil {
			err = sameTree(old.File, old.root, now.root, pins)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("cwlpatch: after editing, a pin does not read back (a bug; nothing was written):\n%w", joinErrors(errs))
	}
	return nil
}

// sameTree reports the first difference between a file's tree before and
// after pinning, other than a scalar that is now a pin, or an entry added
// to a mapping or a list that holds a pin (an injected DockerRequirement,
// or the requirements key made for it).
func sameTree(file string, old, now *yaml.Node, pins map[*yaml.Node]bool) error {
	differs := func(what string) error {
		return fmt.Errorf("%s:%d: %s changed, not only the pin", file, now.Line, what)
	}
	if old.Kind != now.Kind {
		return differs("a node's kind")
	}
	switch old.Kind {
	case yaml.ScalarNode:
		if old.Value != now.Value && !pins[now] {
			return differs(fmt.Sprintf("the value %q", old.Value))
		}
		return nil
	case yaml.AliasNode:
		if old.Value != now.Value {
			return differs("an alias")
		}
		return nil
	case yaml.DocumentNode, yaml.MappingNode, yaml.SequenceNode:
	default:
		return differs("a node")
	}
	step := 1
	if old.Kind == yaml.MappingNode {
		step = 2
	}
	i, j := 0, 0
	for i < len(old.Content) || j < len(now.Content) {
		if i < len(old.Content) && j < len(now.Content) && sameTree(file, old.Content[i], now.Content[j], pins) == nil &&
			(step == 1 || sameTree(file, old.Content[i+1], now.Content[j+1], pins) == nil) {
			i, j = i+step, j+step
			continue
		}
		// An entry only in the new tree must be one cwlpatch added.
		if j < len(now.Content) && holdsPin(now.Content[j:j+step], pins) && len(now.Content)-j > len(old.Content)-i {
			j += step
			continue
		}
		if i < len(old.Content) && j < len(now.Content) {
			if err := sameTree(file, old.Content[i], now.Content[j], pins); err != nil {
				return err
			}
			return sameTree(file, old.Content[i+step-1], now.Content[j+step-1], pins)
		}
		return differs("the number of entries")
	}
	return nil
}

// holdsPin reports whether nodes hold a pin: an added DockerRequirement.
func holdsPin(nodes []*yaml.Node, pins map[*yaml.Node]bool) bool {
	for _, n := range nodes {
		if pins[n] || holdsPin(n.Content, pins) {
			return true
		}
	}
	return false
}
