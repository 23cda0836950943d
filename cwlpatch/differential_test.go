package cwlpatch

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/eoap/cwlbuild/builder"
	"github.com/eoap/cwlbuild/internal/testenv"
	"github.com/eoap/cwlbuild/skaffold/buildjson"
)

// TestDifferential checks the resolver against cwltool itself on generated
// packages (gen_test.go) and on the cases under testdata/differential
// (packages a run of it once got wrong):
//
//  1. Before pinning, for every CommandLineTool cwltool runs, in every
//     context (the steps that lead to it), the resolver names the image
//     cwltool's loader resolves (load_tool and get_requirement, and
//     docker.py's dockerImageId rule). A package cwltool cannot load must
//     be one the resolver refuses.
//  2. After cwlpatch, either `--check` fails, or cwltool runs, for every
//     process of a tool, exactly the tool's pin; no process runs another
//     image of a tool's repository; and every other process runs an image
//     pinned by digest that is the one it ran before: never another
//     repository's pin rewritten.
//
// CWLBUILD_DIFF_PACKAGES (default 500) and CWLBUILD_DIFF_SEED (default 1)
// choose the packages; a disagreement prints the package and its seed, and
// CWLBUILD_DIFF_KEEP=DIR keeps each failing package there, to be added
// under testdata/differential.
func TestDifferential(t *testing.T) {
	if testing.Short() {
		t.Skip("runs cwltool: the full tier runs it")
	}
	n := envInt(t, "CWLBUILD_DIFF_PACKAGES", 500)
	seed := int64(envInt(t, "CWLBUILD_DIFF_SEED", 1))
	root := t.TempDir()
	var pkgs []*genPackage
	for i := 0; i < n; i++ {
		dir := filepath.Join(root, strconv.Itoa(i))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		p, err := generatePackage(seed+int64(i), dir)
		if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	pkgs = append(pkgs, savedCases(t, root)...)
	st := runDifferential(t, pkgs)
	t.Logf("%d packages (seeds %d–%d and %d saved cases): %d refused by cwlpatch, %d failed --check after pinning, %d pinned and checked against cwltool (%d processes, %d contexts)",
		len(pkgs), seed, seed+int64(n)-1, len(pkgs)-n, st.refused, st.checkFailed, st.pinned, st.processes, st.contexts)
	var shapes []string
	for s, c := range st.shapes {
		shapes = append(shapes, fmt.Sprintf("%s: %d", s, c))
	}
	sort.Strings(shapes)
	t.Logf("shapes: %s", strings.Join(shapes, "; "))
	// The comparison must have something to compare: most packages pin.
	if st.pinned*4 < len(pkgs) {
		t.Errorf("only %d of %d packages pinned and passed --check: the generator makes too few packages the test can compare", st.pinned, len(pkgs))
	}
}

type diffStats struct {
	refused, checkFailed, pinned, processes, contexts int
	shapes                                            map[string]int
}

func runDifferential(t *testing.T, pkgs []*genPackage) diffStats {
	st := diffStats{shapes: map[string]int{}}
	before := testenv.CWLToolBatch(t, oracleRefs(pkgs))
	var patched []*genPackage
	beforeOf := map[*genPackage]map[string]string{}
	for i, p := range pkgs {
		for s := range p.Shapes {
			st.shapes[s]++
		}
		plan := loadGenPlan(t, p)
		if plan == nil {
			continue
		}
		images, ok := compareResolver(t, p, plan, before[i])
		if !ok {
			continue
		}
		beforeOf[p] = images
		_, err := Patch(context.Background(), plan, genBuilds(p), Options{Pin: builder.PinTagDigest, Write: true, Source: "build.json"})
		if err != nil {
			st.refused++
			if p.Refused == "" {
				p.note(t, "refused: %v", err)
			}
			continue
		}
		if p.Refused != "" {
			disagree(t, p, "cwlpatch pinned a package with %s", p.Refused)
			continue
		}
		rep, err := CheckPins(context.Background(), loadGenPlan(t, p), CheckOptions{})
		if err != nil || len(rep.Problems) > 0 {
			st.checkFailed++
			continue
		}
		patched = append(patched, p)
	}
	if len(patched) == 0 {
		return st
	}
	after := testenv.CWLToolBatch(t, oracleRefs(patched))
	for i, p := range patched {
		a := after[i]
		if a.Error != "" {
			disagree(t, p, "--check passes after pinning, but cwltool cannot load the package: %s", a.Error)
			continue
		}
		st.pinned++
		seen := map[string]bool{}
		for _, im := range a.Images {
			key := oracleKey(im)
			st.contexts++
			if !seen[deref1(im.Label)] {
				seen[deref1(im.Label)] = true
				st.processes++
			}
			checkPinned(t, p, key, deref1(im.Label), deref1(im.Image), beforeOf[p][key])
		}
	}
	return st
}

// checkPinned is property 2 for one process in one context.
func checkPinned(t *testing.T, p *genPackage, key, label, image, before string) {
	owner, known := p.Owner[label]
	for _, tool := range p.Tools {
		if pulledRepoOf(image) == tool.Repo && image != tool.Pin {
			disagree(t, p, "%s: --check passes, but cwltool runs %q, an image of tool %s's repository that is not its build", key, image, tool.Name)
			return
		}
	}
	switch {
	case !known:
		disagree(t, p, "%s: cwltool runs a process the generator did not make", key)
	case !isDigestPinned(image):
		disagree(t, p, "%s: --check passes, but cwltool runs %q, not pinned by digest", key, image)
	case owner >= 0 && image != p.Tools[owner].Pin:
		disagree(t, p, "%s: --check passes, but cwltool runs %q, not tool %s's pin %s", key, image, p.Tools[owner].Name, p.Tools[owner].Pin)
	case owner < 0 && image != before:
		if i, ok := p.Maybe[label]; ok && image == p.Tools[i].Pin {
			return
		}
		for _, tool := range p.Tools {
			if image == tool.Pin && pulledRepoOf(before) == tool.Repo {
				return
			}
		}
		disagree(t, p, "%s: a process no tool builds ran %q and now runs %q", key, before, image)
	}
}

// compareResolver is property 1: it returns cwltool's images by key.
func compareResolver(t *testing.T, p *genPackage, plan *builder.Plan, answer testenv.CWLToolAnswer) (map[string]string, bool) {
	s := loadProject(plan)
	res := s.resolve()
	refused := len(s.errs) + len(res.refused)
	if answer.Error != "" {
		if p.Refused == "" {
			disagree(t, p, "cwltool cannot load the package: %s", answer.Error)
		} else if refused == 0 {
			disagree(t, p, "cwltool cannot load the package (%s), and the resolver accepts it", p.Refused)
		}
		return nil, false
	}
	if refused > 0 {
		var msgs []string
		for _, e := range append(append([]error(nil), s.errs...), res.refused...) {
			msgs = append(msgs, e.Error())
		}
		disagree(t, p, "cwltool loads the package, the resolver refuses it:\n%s", strings.Join(msgs, "\n"))
		return nil, false
	}
	ours := map[string]string{}
	for _, e := range res.runs {
		ours[resolverKey(e)] = e.image()
	}
	theirs := map[string]string{}
	for _, im := range answer.Images {
		key := oracleKey(im)
		theirs[key] = deref1(im.Image)
		got, ok := ours[key]
		switch {
		case !ok:
			disagree(t, p, "%s: cwltool runs it, the resolver does not find it (it found %v)", key, keys(ours))
		case got != deref1(im.Image):
			disagree(t, p, "%s: cwltool runs %q, the resolver says %q", key, deref1(im.Image), got)
		}
	}
	return theirs, !p.failed
}

// resolverKey and oracleKey name a process in a context the same way on
// both sides: its label, and the steps that lead to it.
func resolverKey(e execution) string {
	label := ""
	if l := mapGet(e.proc.Node, "label"); l != nil {
		label = l.Value
	}
	var via []string
	for _, r := range e.via {
		via = append(via, rawStepID(r.workflow, r.step))
	}
	return label + " via [" + strings.Join(via, " ") + "]"
}

func oracleKey(im testenv.CWLToolImage) string {
	var via []string
	for _, v := range im.Via {
		via = append(via, path.Base(v))
	}
	return deref1(im.Label) + " via [" + strings.Join(via, " ") + "]"
}

func rawStepID(wf *cwlProcess, step *yaml.Node) string {
	name := stepName(wf, step)
	if s, err := strconv.Unquote(name); err == nil {
		return s
	}
	return name
}

func oracleRefs(pkgs []*genPackage) []testenv.CWLToolPackage {
	var out []testenv.CWLToolPackage
	for _, p := range pkgs {
		out = append(out, testenv.CWLToolPackage{Dir: p.Dir, Refs: append(append([]string(nil), p.Workflows...), p.ToolRefs...)})
	}
	return out
}

func genBuilds(p *genPackage) *buildjson.Output {
	out := &buildjson.Output{}
	for _, tool := range p.Tools {
		out.Builds = append(out.Builds, buildjson.Build{ImageName: tool.Repo, Tag: tool.Pin})
	}
	return out
}

func loadGenPlan(t *testing.T, p *genPackage) *builder.Plan {
	plan, err := builder.Load(filepath.Join(p.Dir, "project.toml"), builder.LoadOptions{SkipContexts: true, SkipCWL: true})
	if err != nil {
		disagree(t, p, "project.toml: %v", err)
		return nil
	}
	return plan
}

// disagree reports a disagreement with the package's files and seed, and
// keeps the package under CWLBUILD_DIFF_KEEP.
func disagree(t *testing.T, p *genPackage, format string, args ...any) {
	t.Helper()
	p.failed = true
	t.Errorf("package %s (seed %d): %s%s", p.Dir, p.Seed, fmt.Sprintf(format, args...), p.dump())
	if keep := os.Getenv("CWLBUILD_DIFF_KEEP"); keep != "" {
		dst := filepath.Join(keep, fmt.Sprintf("seed-%d", p.Seed))
		if err := os.CopyFS(dst, os.DirFS(p.Dir)); err == nil {
			saved := *p
			saved.Dir = "" // the copy's own directory, when it is read back
			data, _ := json.MarshalIndent(&saved, "", " ")
			os.WriteFile(filepath.Join(dst, "case.json"), data, 0o644)
		}
	}
}

// note logs what is not a disagreement but worth a look when the test is
// run with -v: a package cwlpatch refused though it has no refused shape.
func (p *genPackage) note(t *testing.T, format string, args ...any) {
	if testing.Verbose() && os.Getenv("CWLBUILD_DIFF_NOTES") != "" {
		t.Logf("package %s (seed %d): %s", p.Dir, p.Seed, fmt.Sprintf(format, args...))
	}
}

// dump is the package's files, for a failure message.
func (p *genPackage) dump() string {
	var b strings.Builder
	filepath.WalkDir(p.Dir, func(file string, e os.DirEntry, err error) error {
		if err != nil || e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			return nil
		}
		data, _ := os.ReadFile(file)
		rel, _ := filepath.Rel(p.Dir, file)
		fmt.Fprintf(&b, "\n--- %s\n%s", rel, data)
		return nil
	})
	return b.String()
}

// savedCases copies each case under testdata/differential (a package and
// its case.json, as CWLBUILD_DIFF_KEEP saves them) into root.
func savedCases(t *testing.T, root string) []*genPackage {
	dirs, _ := filepath.Glob(filepath.Join("testdata", "differential", "*", "case.json"))
	var out []*genPackage
	for _, c := range dirs {
		data, err := os.ReadFile(c)
		if err != nil {
			t.Fatal(err)
		}
		p := &genPackage{}
		if err := json.Unmarshal(data, p); err != nil {
			t.Fatalf("%s: %v", c, err)
		}
		p.Dir = filepath.Join(root, "saved-"+filepath.Base(filepath.Dir(c)))
		if err := os.CopyFS(p.Dir, os.DirFS(filepath.Dir(c))); err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

func envInt(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		t.Fatalf("%s=%q: %v", name, v, err)
	}
	return n
}

func deref1(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
