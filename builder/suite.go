package builder

import (
	"fmt"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/eoap/cwlbuild/internal/genfile"
)

// A cwltest suite is a YAML list of cases, each naming the CWL to run
// (tool, FILE#ID), its job file, the output object it must give and its
// tags, every path relative to the suite file; an entry `$import: FILE`
// brings in another suite's cases. cwlbuild runs each case as a test of
// the package: its tool must be one of the package's own CWL files, the
// ones cwlbuild built and pinned (a published suite naming the released
// file by URL maps it with [[tests.suites]] urls), and its job is read
// here, its File and Directory inputs checked as a project.toml test's
// params are, so a case runs with either engine exactly as a test of
// project.toml does.

// suiteFields are the keys of a case in cwltest's schema; a key with a
// ':' (a namespaced extension) or a '$' is left alone, any other refused.
var suiteFields = []string{"id", "label", "short_name", "doc", "tags", "tool", "job", "should_fail", "output"}

// maxSuiteImports bounds how deep $import nests.
const maxSuiteImports = 16

// suiteLoad is one suite file's cases being read.
type suiteLoad struct {
	p     *Project
	suite *Suite
	index int            // the suite's place: its tests' ids are suites.INDEX.ID
	key   string         // its [[tests.suites]] key; "" for --suite
	top   string         // the suite file (the cases of its imports are its own)
	root  string         // no symlink below it is followed: the package, or the suite's own directory
	seen  map[string]int // case id -> its number
	count int            // the cases read so far, imports included
	plans []*TestPlan
	errs  []error
}

// loadSuites reads every suite of [[tests.suites]] and of LoadOptions.Suites
// into test plans, in that order; their errors name the suite or job file
// and line.
func (p *Project) loadSuites() ([]*TestPlan, []error) {
	type entry struct {
		suite *Suite
		key   string
		abs   string
	}
	var entries []entry
	for i, s := range p.Tests.Suites {
		key := fmt.Sprintf("tests.suites.%d", i)
		entries = append(entries, entry{s, key, ""})
		if s.Path == "" {
			return nil, []error{p.Errorf(key, "%s.path is not set: name a cwltest suite file of the package", key)}
		}
		if err := p.checkInside(s.Path, key+".path"); err != nil {
			return nil, []error{err}
		}
		entries[i].abs = p.Abs(s.Path)
		for prefix, to := range s.URLs {
			if u, err := url.Parse(prefix); err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
				return nil, []error{p.Errorf(key+".urls", "%s.urls: %q is not an http or https address to map", key, prefix)}
			}
			if err := p.checkInside(to, key+".urls"); err != nil {
				return nil, []error{err}
			}
		}
	}
	for _, f := range p.opts.Suites {
		abs, _ := filepath.Abs(f)
		if slices.ContainsFunc(entries, func(e entry) bool { return e.abs == abs }) {
			continue
		}
		entries = append(entries, entry{&Suite{Path: abs}, "", abs})
	}
	var plans []*TestPlan
	var errs []error
	for i, e := range entries {
		l := &suiteLoad{p: p, suite: e.suite, index: i, key: e.key, top: e.abs, seen: map[string]int{}}
		l.root = p.Dir
		if !within(p.Dir, e.abs) {
			// A suite of this machine named on the command line (or one
			// allowed out of the package): its own directory is the root.
			l.root = filepath.Dir(e.abs)
		}
		l.file(e.abs, nil)
		plans = append(plans, l.plans...)
		errs = append(errs, l.errs...)
	}
	return plans, errs
}

// rel is path as errors name it: relative to the project directory when in
// it.
func (l *suiteLoad) rel(path string) string {
	if r, err := filepath.Rel(l.p.Dir, path); err == nil && filepath.IsLocal(r) {
		return filepath.ToSlash(r)
	}
	return path
}

func (l *suiteLoad) errorf(file string, n *yaml.Node, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	l.errs = append(l.errs, &Error{File: l.rel(file), Line: line, Key: l.key, Msg: fmt.Sprintf(format, args...)})
}

// read reads a file of the suite (the suite, an import, a job) through no
// symlink, and parses it as YAML (JSON is YAML too).
func (l *suiteLoad) read(file string) (*yaml.Node, error) {
	root := l.p.Dir
	if !within(root, file) {
		root = l.root // a suite of this machine, outside the package
	}
	if !within(root, file) {
		return nil, fmt.Errorf("outside the package")
	}
	data, err := genfile.Read(root, file)
	if err != nil {
		return nil, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	if len(doc.Content) == 0 {
		return nil, fmt.Errorf("empty")
	}
	return doc.Content[0], nil
}

// file reads one suite file's cases; stack holds the files importing it.
func (l *suiteLoad) file(file string, stack []string) {
	if slices.Contains(stack, file) {
		l.errorf(stack[len(stack)-1], nil, "$import of %s makes a cycle", l.rel(file))
		return
	}
	if len(stack) >= maxSuiteImports {
		l.errorf(file, nil, "$import nests more than %d deep", maxSuiteImports)
		return
	}
	n, err := l.read(file)
	if err != nil {
		l.errorf(file, nil, "the cwltest suite: %v", err)
		return
	}
	switch n.Kind {
	case yaml.SequenceNode:
	case yaml.MappingNode:
		n = &yaml.Node{Kind: yaml.SequenceNode, Content: []*yaml.Node{n}, Line: n.Line}
	default:
		l.errorf(file, n, "a cwltest suite is a list of test cases")
		return
	}
	for _, c := range n.Content {
		if c.Kind != yaml.MappingNode {
			l.errorf(file, c, "a test case is a mapping (tool, job, output, id, doc, tags, should_fail)")
			continue
		}
		if imp := mapValue(c, "$import"); imp != nil {
			target, err := l.resolve(file, imp.Value)
			if err != nil {
				l.errorf(file, imp, "$import %q: %v", imp.Value, err)
				continue
			}
			l.file(target, append(stack, file))
			continue
		}
		l.testCase(file, c)
	}
}

// testCase turns one case into a test plan.
func (l *suiteLoad) testCase(file string, c *yaml.Node) {
	p := l.p
	l.count++
	number := l.count
	var tc Test
	var caseID, tool, job string
	var toolNode, jobNode *yaml.Node
	var output *yaml.Node
	ok := true
	for i := 0; i+1 < len(c.Content); i += 2 {
		k, v := c.Content[i], c.Content[i+1]
		switch k.Value {
		case "id", "label", "short_name", "doc", "tool", "job":
			if v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
				l.errorf(file, v, "%s: want a string", k.Value)
				ok = false
				continue
			}
			switch k.Value {
			case "id":
				caseID = v.Value
			case "label", "short_name":
				if mapValue(c, "id") == nil {
					caseID = v.Value
				}
			case "doc":
				tc.Description = strings.TrimSpace(v.Value)
			case "tool":
				tool, toolNode = v.Value, v
			case "job":
				job, jobNode = v.Value, v
			}
		case "tags":
			if err := v.Decode(&tc.Tags); err != nil {
				l.errorf(file, v, "tags: want a list of strings")
				ok = false
			}
		case "should_fail":
			if err := v.Decode(&tc.ShouldFail); err != nil {
				l.errorf(file, v, "should_fail: want true or false")
				ok = false
			}
		case "output":
			output = v
		default:
			if !strings.Contains(k.Value, ":") && !strings.HasPrefix(k.Value, "$") {
				l.errorf(file, k, "unknown key %q in a test case: cwltest's are %s", k.Value, strings.Join(suiteFields, ", "))
				ok = false
			}
		}
	}
	if caseID == "" {
		caseID = strconv.Itoa(number) // cwltest numbers the cases from 1
	}
	if first, dup := l.seen[caseID]; dup {
		l.errorf(file, c, "test case id %q is also the id of case %d", caseID, first)
		return
	}
	l.seen[caseID] = number
	if tool == "" {
		l.errorf(file, c, "test case %q: tool is not set (the CWL it runs, FILE#ID)", caseID)
		return
	}
	ref, err := l.toolRef(file, tool)
	if err != nil {
		l.errorf(file, toolNode, "test case %q: tool %q: %v", caseID, tool, err)
		return
	}
	if job != "" {
		params, ok2 := l.job(file, caseID, jobNode)
		ok = ok && ok2
		tc.Params = params
	}
	if output != nil && !tc.ShouldFail && output.Tag != "!!null" {
		var want map[string]any
		if output.Kind != yaml.MappingNode || output.Decode(&want) != nil {
			l.errorf(file, output, "test case %q: output: the expected output object is a mapping of output ids", caseID)
			ok = false
		} else {
			tc.Expect = want
		}
	}
	if !ok {
		return
	}
	tc.Name = caseID
	tc.Timeout = l.suite.Timeout
	key := l.key
	if key == "" {
		key = "tests.suites"
	}
	id := fmt.Sprintf("suites.%d.%s", l.index, unsafeChars.ReplaceAllString(caseID, "_"))
	tp := p.testPlan(&tc, "suite", l.rel(file), ref, id, key)
	tp.Suite = l.top
	l.plans = append(l.plans, tp)
}

// resolve is ref, written in file, as a path of this machine: relative to
// file's directory, a file: URL, or an http(s) address mapped by the
// suite's urls. It must stay in the package.
func (l *suiteLoad) resolve(file, ref string) (string, error) {
	target := ref
	if m := scheme.FindStringSubmatch(ref); m != nil && len(m[1]) > 1 {
		u, err := url.Parse(ref)
		if err != nil {
			return "", err
		}
		switch strings.ToLower(m[1]) {
		case "file":
			target = u.Path
		case "http", "https":
			mapped, ok := l.mapURL(ref)
			if !ok {
				return "", fmt.Errorf("an address: cwlbuild runs the package's own files, not a published copy; map it to one with [[tests.suites]] urls = { %q = \"PATH\" }", ref)
			}
			target = mapped
		default:
			return "", fmt.Errorf("scheme %q: want a path of the package", m[1])
		}
	} else if !filepath.IsAbs(filepath.FromSlash(target)) {
		target = filepath.Join(filepath.Dir(file), filepath.FromSlash(target))
	}
	target = filepath.Clean(target)
	switch {
	case within(l.p.Dir, target):
		// In the package, and no symlink leads it out.
		if err := l.p.insideProject(ref, target); err != nil {
			return "", err
		}
	case l.root != l.p.Dir && within(l.root, target), l.p.opts.AllowOutsidePaths:
		// Beside a suite of this machine the command line named.
	default:
		return "", fmt.Errorf("%s is outside the package", target)
	}
	return target, nil
}

// mapURL maps an address by the suite's longest matching prefix.
func (l *suiteLoad) mapURL(ref string) (string, bool) {
	best := ""
	for prefix := range l.suite.URLs {
		if strings.HasPrefix(ref, prefix) && len(prefix) > len(best) {
			best = prefix
		}
	}
	if best == "" {
		return "", false
	}
	rest := strings.TrimPrefix(ref, best)
	return l.p.Abs(l.suite.URLs[best] + rest), true
}

// toolRef resolves a case's tool to FILE#ID relative to the project: one
// of the CWL files project.toml names (a tool's path or a workflow), the
// ones whose images cwlbuild built and cwlpatch pinned.
func (l *suiteLoad) toolRef(file, tool string) (string, error) {
	ref, frag, _ := strings.Cut(tool, "#")
	path, err := l.resolve(file, ref)
	if err != nil {
		return "", err
	}
	known := false
	for _, t := range l.p.Tools {
		for _, tp := range t.Paths {
			f, _ := SplitProcessRef(tp)
			known = known || l.p.Abs(f) == path
		}
	}
	for _, w := range l.p.Workflows {
		f, _ := SplitProcessRef(w.Path)
		known = known || w.Path != "" && l.p.Abs(f) == path
	}
	if !known {
		return "", fmt.Errorf("%s is not a CWL file project.toml names (a tool's path or a workflow): a test runs the package's CWL, whose images cwlbuild built and pinned", l.rel(path))
	}
	rel, err := filepath.Rel(l.p.Dir, path)
	if err != nil {
		return "", err
	}
	out := filepath.ToSlash(rel)
	if frag != "" {
		out += "#" + frag
	}
	return out, nil
}

// job reads a case's job file into a params table, its relative File and
// Directory paths made absolute against the job's directory (CWL resolves
// them so), each checked as a test's params are.
func (l *suiteLoad) job(file, caseID string, n *yaml.Node) (map[string]any, bool) {
	path, err := l.resolve(file, n.Value)
	if err != nil {
		l.errorf(file, n, "test case %q: job %q: %v", caseID, n.Value, err)
		return nil, false
	}
	doc, err := l.read(path)
	if err != nil {
		l.errorf(file, n, "test case %q: job %s: %v", caseID, l.rel(path), err)
		return nil, false
	}
	var params map[string]any
	if doc.Kind != yaml.MappingNode || doc.Decode(&params) != nil {
		l.errorf(path, doc, "a job file is a mapping of input ids to values")
		return nil, false
	}
	dir := filepath.Dir(path)
	walkInputs(doc, "", func(v *yaml.Node, key, _ string) {
		if err := l.p.checkInput(v.Value, dir); err != nil {
			l.p.confine(&Error{File: l.rel(path), Line: v.Line, Key: l.key, Msg: fmt.Sprintf("%s %v: a test would give it to the tool", key, err)}, func(err error) { l.errs = append(l.errs, err) })
		}
	})
	return absolutizeIn(dir, params).(map[string]any), true
}

// absolutizeIn makes the relative path and location of every File and
// Directory in v absolute against dir.
func absolutizeIn(dir string, v any) any {
	switch x := v.(type) {
	case map[string]any:
		class, _ := x["class"].(string)
		for k, val := range x {
			if s, ok := val.(string); ok && (class == "File" || class == "Directory") && (k == "path" || k == "location") && !scheme.MatchString(s) {
				x[k] = absIn(dir, s)
				continue
			}
			x[k] = absolutizeIn(dir, val)
		}
	case []any:
		for i, e := range x {
			x[i] = absolutizeIn(dir, e)
		}
	}
	return v
}

// mapValue is the value of key in a mapping node, or nil.
func mapValue(n *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}
