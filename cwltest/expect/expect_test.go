package expect

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func obj(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestCompare: cwltest's rules, each passing and failing, and the message
// naming where and both values.
func TestCompare(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "water.csv"), []byte("id,area\n1,2.5\n"), 0o644)
	actual := `{"water": {"class": "File", "location": "file://` + dir + `/water.csv", "path": "` + dir + `/water.csv", "basename": "water.csv",
	  "checksum": "sha1$aaa", "size": 14, "secondaryFiles": [{"class": "File", "location": "file:///o/water.csv.aux", "basename": "water.csv.aux"}]},
	 "dir": {"class": "Directory", "location": "file:///o/stac/", "basename": "stac", "listing": [
	   {"class": "File", "location": "file:///o/stac/b.json", "basename": "b.json"},
	   {"class": "File", "location": "file:///o/stac/catalog.json", "basename": "catalog.json", "size": 10}]},
	 "count": 3, "ratio": 0.5, "names": ["a", "b"], "note": null}`
	files := func(p string) ([]byte, error) { return os.ReadFile(p) }
	for _, c := range []struct {
		name, expected, want string // want "" passes, else the message holds it
	}{
		{"all of it", `{"water": {"class": "File", "location": "water.csv", "checksum": "sha1$aaa", "size": 14, "secondaryFiles": [{"class": "File", "basename": "water.csv.aux"}]},
		  "dir": {"class": "Directory", "basename": "stac", "listing": [{"class": "File", "basename": "catalog.json", "size": 10}]},
		  "count": 3.0, "ratio": 0.5, "names": ["a", "b"]}`, ""},
		{"Any", `{"water": "Any", "dir": "Any", "count": "Any", "ratio": "Any", "names": "Any", "note": "Any"}`, ""},
		{"contents", `{"water": {"class": "File", "contents": "id,area\n1,2.5\n"}, "dir": "Any", "count": 3, "ratio": 0.5, "names": "Any"}`, ""},
		{"location by suffix", `{"water": {"class": "File", "path": "water.csv"}, "dir": {"class": "Directory", "location": "o/stac"}, "count": 3, "ratio": 0.5, "names": "Any"}`, ""},
		{"wrong checksum", `{"water": {"class": "File", "checksum": "sha1$bbb"}, "dir": "Any", "count": 3, "ratio": 0.5, "names": "Any"}`,
			`output water.checksum: differs: expected "sha1$bbb", got "sha1$aaa"`},
		{"wrong contents", `{"water": {"class": "File", "contents": "id,area\n"}, "dir": "Any", "count": 3, "ratio": 0.5, "names": "Any"}`,
			`output water.contents: differs: expected "id,area\n", got "id,area\n1,2.5\n"`},
		{"wrong name", `{"water": {"class": "File", "location": "land.csv"}, "dir": "Any", "count": 3, "ratio": 0.5, "names": "Any"}`,
			`output water.location: does not end with the expected name: expected "land.csv"`},
		{"a name is not a suffix", `{"water": {"class": "File", "location": "ater.csv"}, "dir": "Any", "count": 3, "ratio": 0.5, "names": "Any"}`,
			`does not end with the expected name`},
		{"missing output", `{"water": "Any", "dir": "Any", "count": 3, "ratio": 0.5, "names": "Any", "land": {"class": "File"}}`,
			`output land: missing`},
		{"unexpected output", `{"water": "Any", "dir": "Any", "count": 3, "ratio": 0.5}`, `output names: not expected`},
		{"list length", `{"water": "Any", "dir": "Any", "count": 3, "ratio": 0.5, "names": ["a"]}`, `output names: lengths differ: expected 1, got 2`},
		{"a number", `{"water": "Any", "dir": "Any", "count": 4, "ratio": 0.5, "names": "Any"}`, `output count: differs: expected 4, got 3`},
		{"secondary file", `{"water": {"class": "File", "secondaryFiles": [{"class": "File", "basename": "water.csv.ovr"}]}, "dir": "Any", "count": 3, "ratio": 0.5, "names": "Any"}`,
			`output water.secondaryFiles[0].basename: differs`},
		{"directory entry", `{"water": "Any", "dir": {"class": "Directory", "listing": [{"class": "File", "basename": "item.json"}]}, "count": 3, "ratio": 0.5, "names": "Any"}`,
			`output dir.listing[0]: no entry of the directory matches`},
		{"a File where a Directory is", `{"water": "Any", "dir": {"class": "File"}, "count": 3, "ratio": 0.5, "names": "Any"}`,
			`output dir.class: differs: expected "File", got "Directory"`},
	} {
		err := Compare(obj(t, c.expected), obj(t, actual), files)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		case err != nil:
			var m *Mismatch
			if !errors.As(err, &m) {
				t.Errorf("%s: %T is no *Mismatch", c.name, err)
			}
		}
	}
}
