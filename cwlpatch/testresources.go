package cwlpatch

import (
	"fmt"
	"strconv"

	"gopkg.in/yaml.v3"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/eoap/cwlbuild/builder"
)

// ruleTestResources: a test's Calrissian limits (max_ram, max_cores) hold
// what each tool it runs asks (ramMin, coresMin).
const ruleTestResources = "test/resources"

// TestResources checks each test's Calrissian limits against the
// ResourceRequirement of every CommandLineTool it runs (the tool itself, or
// the workflow's tools, however deep): Calrissian starts a tool's pod only
// within max_ram and max_cores, so a tool that asks more than either never
// starts and the test waits until its timeout. A warning per tool and
// limit at the tool's ResourceRequirement; an error with strict. A
// requirement written as an expression is not judged.
func TestResources(p *builder.Plan, strict bool) []builder.Diagnostic {
	return testResourcesOf(p, loadProject(p), strict)
}

func testResourcesOf(p *builder.Plan, s *set, strict bool) []builder.Diagnostic {
	if len(s.errs) > 0 {
		return nil // the pin checks report the package's errors
	}
	res := s.resolve()
	sev := builder.SeverityWarning
	if strict {
		sev = builder.SeverityError
	}
	var out []builder.Diagnostic
	for _, tp := range p.Tests {
		if tp.Ref == "" {
			continue
		}
		file, id := builder.SplitProcessRef(tp.Ref)
		root := s.process(builder.ProcessRef{Ref: tp.Ref, File: file, Path: p.Abs(file), ID: id, Key: tp.Key})
		if root == nil {
			continue
		}
		maxRAM, ramErr := resource.ParseQuantity(tp.MaxRAM)
		maxCores, coresErr := resource.ParseQuantity(tp.MaxCores)
		seen := map[*cwlProcess]bool{}
		for _, e := range res.runs {
			if seen[e.proc] || !(e.proc == root || len(e.via) > 0 && e.via[0].workflow == root) {
				continue
			}
			seen[e.proc] = true
			req := ownResources(e.proc)
			if req == nil {
				continue
			}
			add := func(n *yaml.Node, format string, args ...any) {
				out = append(out, builder.Diagnostic{File: e.proc.Doc.File, Line: n.Line, Severity: sev, Rule: ruleTestResources, Key: tp.Key,
					Message: fmt.Sprintf(format, args...) + " (" + ruleTestResources + ")"})
			}
			if n, v, ok := number(req, "ramMin"); ok && ramErr == nil && v*(1<<20) > float64(maxRAM.Value()) {
				add(n, "%s asks ramMin %s MiB, more than test %s's max_ram %s: Calrissian never starts it (raise execution.cluster.max_ram)", e.proc.Desc(), n.Value, tp.DisplayName(), tp.MaxRAM)
			}
			if n, v, ok := number(req, "coresMin"); ok && coresErr == nil && v > maxCores.AsApproximateFloat64() {
				add(n, "%s asks coresMin %s, more than test %s's max_cores %s: Calrissian never starts it (raise execution.cluster.max_cores)", e.proc.Desc(), n.Value, tp.DisplayName(), tp.MaxCores)
			}
		}
	}
	return out
}

// ownResources is the ResourceRequirement a process writes itself (in
// requirements, else hints; the last of each, as cwltool reads them).
func ownResources(proc *cwlProcess) *yaml.Node {
	var last *yaml.Node
	for _, section := range []string{"hints", "requirements"} {
		if found, _ := proc.Doc.classSites(proc.Node, section, "ResourceRequirement"); len(found) > 0 {
			last = found[len(found)-1].req
		}
	}
	return last
}

// number is key's value in m when it is a number (not an expression).
func number(m *yaml.Node, key string) (*yaml.Node, float64, bool) {
	n := mapGet(m, key)
	if n == nil || n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && n.Tag != "!!float") {
		return nil, 0, false
	}
	v, err := strconv.ParseFloat(n.Value, 64)
	return n, v, err == nil
}
