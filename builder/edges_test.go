package builder

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pelletier/go-toml/v2/unstable"
)

// TestLineOf: a node's line from its raw range, or from where its data
// lies in the input; 0 for data copied out of it (an escaped key) and for
// no data at all. The first byte of the file is line 1; the last byte of a
// line is on that line.
func TestLineOf(t *testing.T) {
	data := []byte("a = 1\nbb = 22\n")
	x := newLineIndex(data)
	for _, tc := range []struct {
		name string
		n    unstable.Node
		want int
	}{
		{"raw at byte 0", unstable.Node{Raw: unstable.Range{Offset: 0, Length: 1}}, 1},
		{"raw, last byte of line 1", unstable.Node{Raw: unstable.Range{Offset: 4, Length: 1}}, 1},
		{"raw, line 2", unstable.Node{Raw: unstable.Range{Offset: 6, Length: 2}}, 2},
		{"data in the input", unstable.Node{Data: data[11:13]}, 2},
		{"data at byte 0", unstable.Node{Data: data[0:1]}, 1},
		{"data copied out", unstable.Node{Data: []byte("bb")}, 0},
		{"nothing", unstable.Node{}, 0},
	} {
		t.Run(fmt.Sprint(tc), func(t *testing.T) {
			if got := x.lineOf(&tc.n); got != tc.want {
				t.Errorf("%s: line %d, want %d", tc.name, got, tc.want)
			}
		})
	}
}

// TestPositions: a key's line, else its nearest recorded parent's; tools in
// the order their tables appear, an empty table included.
func TestPositions(t *testing.T) {
	pos, err := indexPositions([]byte("[tools.b]\n\n[tools.a]\ncontext = \"x\"\npath = [\n  \"p\",\n]\n"))
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]int{"tools.b": 1, "tools.a": 3, "tools.a.context": 4, "tools.a.path": 5, "tools.a.nothing.deeper": 3, "absent": 0, "": 0} {
		t.Run(fmt.Sprint(path), func(t *testing.T) {
			if got := pos.line(path); got != want {
				t.Errorf("line(%q) = %d, want %d", path, got, want)
			}
		})
	}
	if got := strings.Join(pos.toolOrder, ","); got != "b,a" {
		t.Errorf("tool order %s", got)
	}
}

func TestErrorWithoutLine(t *testing.T) {
	if got := (&Error{File: "p.toml", Line: 0, Msg: "m"}).Error(); got != "p.toml: m" {
		t.Errorf("%q", got)
	}
	if got := (&Error{File: "p.toml", Line: 1, Msg: "m"}).Error(); got != "p.toml:1: m" {
		t.Errorf("%q", got)
	}
}

// TestSuggestTies: the closest candidate within a third of the name's length
// plus two edits; the first of equally close ones.
func TestSuggestTies(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cands []string
		want  string
	}{
		{"ab", []string{"ax", "ay"}, "ax"},
		{"Contxt", []string{"image", "context"}, "context"},
		{"zzzzzz", []string{"context"}, ""},
		{"abc", []string{"xyz"}, ""},
	} {
		t.Run(fmt.Sprint(tc), func(t *testing.T) {
			if got := Suggest(tc.name, tc.cands); got != tc.want {
				t.Errorf("Suggest(%q, %v) = %q, want %q", tc.name, tc.cands, got, tc.want)
			}
		})
	}
}

// TestVersionLength: [project] version is at most 100 characters, leaving
// room in the 128 of a tag for "-" and the commit.
func TestVersionLength(t *testing.T) {
	for n, ok := range map[int]bool{100: true, 101: false} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			file := writeProject(t, strings.Replace(base, `name = "p"`, `name = "p"`+"\nversion = \""+strings.Repeat("v", n)+"\"", 1))
			_, err := Load(file, LoadOptions{SkipCWL: true})
			if (err == nil) != ok {
				t.Errorf("version of %d characters: %v", n, err)
			}
		})
	}
}

// TestLabelsAndSource: Labels carry only what is set, Source prefers
// [project] repository to the git remote, and BuildLabels add the revision
// and the source.
func TestLabelsAndSource(t *testing.T) {
	a := &Artifact{Tool: "crop"}
	p := &Plan{}
	if got := fmt.Sprintf("%v %v %s", p.Labels(a), p.BuildLabels(a), p.Source()); got != "map[org.opencontainers.image.title:crop] map[org.opencontainers.image.title:crop] " {
		t.Errorf("bare: %s", got)
	}
	p.Revision, p.GitRemote = "cafe", "https://git.example/r"
	if got := fmt.Sprintf("%v %v %s", p.Labels(a), p.BuildLabels(a), p.Source()); got != "map[org.opencontainers.image.title:crop] "+
		"map[org.opencontainers.image.revision:cafe org.opencontainers.image.source:https://git.example/r org.opencontainers.image.title:crop] https://git.example/r" {
		t.Errorf("git only: %s", got)
	}
	p.Version, p.Description, p.Repository = "1", "d", "https://example.org/p"
	if got := fmt.Sprintf("%v %s", p.Labels(a), p.Source()); got != "map[org.opencontainers.image.description:d org.opencontainers.image.source:https://example.org/p "+
		"org.opencontainers.image.title:crop org.opencontainers.image.version:1] https://example.org/p" {
		t.Errorf("full: %s", got)
	}
	if got := p.BuildLabels(a)[LabelSource]; got != "https://example.org/p" {
		t.Errorf("build source %s", got)
	}
}

// TestTimestamp: SOURCE_DATE_EPOCH when it is a non-negative integer, 0
// when unset, an error naming it otherwise; none when builds are not
// reproducible.
func TestTimestamp(t *testing.T) {
	file := writeProject(t, base)
	for env, want := range map[string]int64{"": 0, "1700000000": 1700000000, "0": 0, "-5": -1, "soon": -1} {
		t.Run(fmt.Sprint(env), func(t *testing.T) {
			t.Setenv("SOURCE_DATE_EPOCH", env)
			p, err := Load(file, LoadOptions{SkipCWL: true})
			switch {
			case want < 0:
				if err == nil || !strings.Contains(err.Error(), "SOURCE_DATE_EPOCH=") {
					t.Errorf("SOURCE_DATE_EPOCH=%q: %v, want an error", env, err)
				}
			case err != nil:
				t.Errorf("SOURCE_DATE_EPOCH=%q: %v", env, err)
			case p.Timestamp == nil || *p.Timestamp != want:
				t.Errorf("SOURCE_DATE_EPOCH=%q: %v, want %d", env, p.Timestamp, want)
			}
		})
	}
	t.Setenv("SOURCE_DATE_EPOCH", "1700000000")
	os.WriteFile(file, []byte(strings.Replace(base, "[build]\n", "[build]\nreproducible = false\n", 1)), 0o644)
	if p, err := Load(file, LoadOptions{SkipCWL: true}); err != nil || p.Timestamp != nil {
		t.Errorf("not reproducible: %v %v", p, err)
	}
}

// TestProjectThroughSymlink: a project opened through a symlinked directory
// keeps its contexts inside it.
func TestProjectThroughSymlink(t *testing.T) {
	file := writeProject(t, base)
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(filepath.Dir(file), link); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(filepath.Join(link, "project.toml"), LoadOptions{SkipCWL: true}); err != nil {
		t.Errorf("through a symlink: %v", err)
	}
}

// TestHandBuiltPlan: a plan built by hand (no project.toml behind it)
// answers Line and Errorf instead of panicking.
func TestHandBuiltPlan(t *testing.T) {
	p := &Plan{File: "project.toml"}
	if p.Line("tools.a") != 0 || p.Errorf("tools.a", "bad %s", "x").Error() != "project.toml: bad x" {
		t.Errorf("%d %v", p.Line("tools.a"), p.Errorf("tools.a", "bad %s", "x"))
	}
}
