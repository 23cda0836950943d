package cwlpatch

import (
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestFindProcesses(t *testing.T) {
	tests := []struct {
		name, doc, id string
		wantClass     string
		wantErr       string
	}{
		{"graph id", "cwlVersion: v1.2\n$graph:\n- class: CommandLineTool\n  id: crop\n", "crop", "CommandLineTool", ""},
		{"hash id in file", "$graph:\n- class: CommandLineTool\n  id: '#crop'\n", "crop", "CommandLineTool", ""},
		{"hash id in ref", "$graph:\n- class: CommandLineTool\n  id: crop\n", "#crop", "CommandLineTool", ""},
		{"single process", "cwlVersion: v1.2\nclass: CommandLineTool\nbaseCommand: echo\n", "", "CommandLineTool", ""},
		{"json packed", `{"$graph": [{"class": "Workflow", "id": "#main", "steps": []}, {"class": "CommandLineTool", "id": "#crop"}], "cwlVersion": "v1.2"}`, "crop", "CommandLineTool", ""},
		{"inline run", "class: Workflow\nid: main\nsteps:\n  s1:\n    run:\n      class: CommandLineTool\n      id: inner\n", "inner", "CommandLineTool", ""},
		{"missing id", "$graph:\n- class: CommandLineTool\n  id: crop\n", "nomask", "", `no process with id "nomask"`},
		{"graph without main", "$graph:\n- class: CommandLineTool\n  id: a\n- class: CommandLineTool\n  id: b\n", "", "", `no process with id "main" in f.cwl`},
		{"graph means main", "$graph:\n- class: CommandLineTool\n  id: a\n- class: Workflow\n  id: '#main'\n", "", "Workflow", ""},
		{"graph of one still means main", "$graph:\n- class: CommandLineTool\n  id: a\n", "", "", `no process with id "main"`},
		{"did you mean", "$graph:\n- class: CommandLineTool\n  id: norm_diff\n- class: CommandLineTool\n  id: otsu\n", "norm-diff", "", `no process with id "norm-diff" in f.cwl (did you mean "norm_diff"?)`},
		{"no far-fetched suggestion", "$graph:\n- class: CommandLineTool\n  id: main\n", "nomask", "", `no process with id "nomask" in f.cwl` + "\x00"},
		{"json escaped solidus", `{"$graph": [{"class": "CommandLineTool", "id": "#crop", "hints": [{"class": "DockerRequirement", "dockerPull": "ghcr.io\/eoap\/crop:1"}]}]}`, "crop", "CommandLineTool", ""},
		{"alias in graph", "x: &t {class: CommandLineTool, id: a}\n$graph:\n- *t\n", "a", "CommandLineTool", ""},
		{"not CWL", "just: data\n", "x", "", "not a CWL document"},
		{"not YAML", "a: [\n", "x", "", "not valid YAML"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := parseDocument("f.cwl", []byte(tc.doc))
			var p *cwlProcess
			if err == nil {
				p, err = d.Find(tc.id)
			}
			if tc.wantErr != "" {
				// A trailing NUL in want means "and nothing after".
				if exact, ok := strings.CutSuffix(tc.wantErr, "\x00"); ok {
					if err == nil || !strings.HasSuffix(err.Error(), exact) {
						t.Fatalf("err %v, want it to end with %q", err, exact)
					}
					return
				}
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Class != tc.wantClass {
				t.Errorf("class %q", p.Class)
			}
		})
	}
}

// TestSameTree: the post-condition accepts a changed pin and an added entry
// that holds one, and nothing else.
func TestSameTree(t *testing.T) {
	parse := func(s string) *yaml.Node {
		var n yaml.Node
		if err := yaml.Unmarshal([]byte(s), &n); err != nil {
			t.Fatal(err)
		}
		return &n
	}
	// pinsOf marks every dockerPull value of new as a pin.
	pinsOf := func(n *yaml.Node) map[*yaml.Node]bool {
		pins := map[*yaml.Node]bool{}
		var walk func(*yaml.Node)
		walk = func(n *yaml.Node) {
			for i, c := range n.Content {
				if n.Kind == yaml.MappingNode && i%2 == 0 && c.Value == "dockerPull" {
					pins[n.Content[i+1]] = true
				}
				walk(c)
			}
		}
		walk(n)
		return pins
	}
	old := "id: a\nhints: {DockerRequirement: {dockerPull: old}}\nreqs: [x, y]\nbaseCommand: echo\n"
	tests := []struct {
		name, now string
		ok        bool
		msg       string // in the error, when not ok
	}{
		{"pin changed", "id: a\nhints: {DockerRequirement: {dockerPull: new}}\nreqs: [x, y]\nbaseCommand: echo\n", true, ""},
		{"entry with a pin added", "id: a\nrequirements: {DockerRequirement: {dockerPull: new}}\nhints: {DockerRequirement: {dockerPull: old}}\nreqs: [x, y]\nbaseCommand: echo\n", true, ""},
		{"list item with a pin added", "id: a\nhints: {DockerRequirement: {dockerPull: old}}\nreqs: [{dockerPull: new}, x, y]\nbaseCommand: echo\n", true, ""},
		{"another scalar changed", "id: a\nhints: {DockerRequirement: {dockerPull: new}}\nreqs: [x, y]\nbaseCommand: rm\n", false, `f.cwl:4: the value "echo" changed`},
		{"a key renamed", "id: a\nhints: {DockerRequirement: {dockerPull: new}}\nreqs: [x, y]\nbaseCmd: echo\n", false, `f.cwl:4: the value "baseCommand" changed`},
		{"list item with a pin added last", "id: a\nhints: {DockerRequirement: {dockerPull: old}}\nreqs: [x, y, {dockerPull: new}]\nbaseCommand: echo\n", true, ""},
		{"two list items with pins added", "id: a\nhints: {DockerRequirement: {dockerPull: old}}\nreqs: [{dockerPull: n}, x, {dockerPull: m}, y]\nbaseCommand: echo\n", true, ""},
		{"a pin added and an item dropped", "id: a\nhints: {DockerRequirement: {dockerPull: old}}\nreqs: [{dockerPull: new}, x]\nbaseCommand: echo\n", false, "f.cwl:3: a node's kind changed"},
		{"an entry without a pin added last", "id: a\nhints: {DockerRequirement: {dockerPull: old}}\nreqs: [x, y]\nbaseCommand: echo\nextra: 1\n", false, "f.cwl:1: the number of entries changed"},
		{"the last list item dropped", "id: a\nhints: {DockerRequirement: {dockerPull: old}}\nreqs: [x]\nbaseCommand: echo\n", false, "f.cwl:3: the number of entries changed"},
		{"an entry with a pin added last", "id: a\nhints: {DockerRequirement: {dockerPull: old}}\nreqs: [x, y]\nbaseCommand: echo\nrequirements: {DockerRequirement: {dockerPull: new}}\n", true, ""},
		{"an entry added without a pin", "id: a\nextra: 1\nhints: {DockerRequirement: {dockerPull: new}}\nreqs: [x, y]\nbaseCommand: echo\n", false, ""},
		{"an entry dropped", "id: a\nhints: {DockerRequirement: {dockerPull: new}}\nbaseCommand: echo\n", false, ""},
		{"a list item changed", "id: a\nhints: {DockerRequirement: {dockerPull: new}}\nreqs: [x, z]\nbaseCommand: echo\n", false, `f.cwl:3: the value "y" changed`},
		{"kind changed", "id: a\nhints: {DockerRequirement: {dockerPull: new}}\nreqs: x\nbaseCommand: echo\n", false, ""},
	}
	for _, tc := range tests {
		now := parse(tc.now)
		err := sameTree("f.cwl", parse(old), now, pinsOf(now))
		if (err == nil) != tc.ok || err != nil && !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: %v (want %q)", tc.name, err, tc.msg)
		}
	}
}
