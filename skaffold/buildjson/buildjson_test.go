package buildjson

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
)

const d1 = "sha256:1111111111111111111111111111111111111111111111111111111111111111"

func TestParse(t *testing.T) {
	out, err := Parse("build.json", []byte(`{"builds":[{"imageName":"r/a","tag":"r/a:1@`+d1+`"},
  {"imageName":"r/b","tag":"r/b:2@`+d1+`","runtimeType":"go"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Builds) != 2 || out.Builds[1].ImageName != "r/b" || out.Builds[1].Line != 2 {
		t.Errorf("got %+v", out.Builds)
	}
	for _, tc := range []struct{ in, want string }{
		{``, "ends early"},
		{`{"builds":[`, "ends early"},
		{`[]`, `want {"builds": [...]}`},
		{`{"other":1}`, `no "builds" key`},
		{`{"builds":[]}`, "lists no builds"},
		{`{"builds":{}}`, "not a list"},
		{`{"builds":[{"tag":"x"}]}`, "builds[0] has no imageName"},
		{`{"builds":[{"imageName":"x"}]}`, "(x) has no tag"},
		{`{"builds":[{"imageName":1,"tag":"x"}]}`, "builds[0]: imageName must be a string"},
		{`{"builds":[{"imageName":"x","tag":"x"},{"imageName":"y","tag":2}]}`, "builds[1]: tag must be a string"},
		{`{"builds":[{"imageName":"x","tag":"x"},{"imageName":"y","tag":"y"},{"tag":"z"}]}`, "builds[2] has no imageName"},
		{"{\"builds\":[\n{\"imageName\":\"x\",\"tag\":\"x\"},\n{\"imageName\":\"x\",\"tag\":\"y\"}]}", "build.json:3: image x is listed twice"},
		{`{"builds":[{"imageName":"x","tag":"x"}]} {}`, "unexpected data"},
		{"{\n\"builds\": [,]}", "build.json:2: not valid JSON"},
	} {
		t.Run(fmt.Sprint(tc), func(t *testing.T) {
			_, err := Parse("build.json", []byte(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse(%q) = %v, want an error containing %q", tc.in, err, tc.want)
			}
		})
	}
}

// TestParseEdges: keys before and after "builds" are skipped whatever their
// values, a second "builds" is refused, and line numbers are right at the
// first and last line and at a line's first byte.
func TestParseEdges(t *testing.T) {
	in := `{"before":{"a":[1,{"builds":[]}]},"builds":[{"imageName":"r/a","tag":"r/a:1@` + d1 + `"}],"after":"x"}`
	out, err := Parse("b.json", []byte(in))
	if err != nil || len(out.Builds) != 1 || out.Builds[0].ImageName != "r/a" || out.Builds[0].Line != 1 {
		t.Errorf("keys around builds: %+v %v", out, err)
	}
	if _, err := Parse("b.json", []byte(`{"builds":[{"imageName":"a","tag":"a"}],`+"\n"+`"builds":[{"imageName":"b","tag":"b"}]}`)); err == nil || !strings.Contains(err.Error(), `b.json:2: "builds" appears twice`) {
		t.Errorf("second builds: %v", err)
	}
	for _, tc := range []struct {
		in   string
		line int
	}{
		{`{"builds":[{"imageName":"a","tag":"a"}]}`, 1},
		{"{\"builds\":[\n{\"imageName\":\"a\",\"tag\":\"a\"}]}", 2},
		{"{\"builds\":[\n\n\n{\"imageName\":\"a\",\"tag\":\"a\"}\n]}", 4},
		{"{\"builds\":[\r\n  {\"imageName\":\"a\",\"tag\":\"a\"}]}", 2},
	} {
		t.Run(fmt.Sprint(tc), func(t *testing.T) {
			out, err := Parse("b.json", []byte(tc.in))
			if err != nil || out.Builds[0].Line != tc.line {
				t.Errorf("%q: line %d (%v), want %d", tc.in, out.Builds[0].Line, err, tc.line)
			}
		})
	}
	idx := newLineIndex([]byte("ab\ncd\n"))
	for off, want := range map[int64]int{0: 1, 2: 1, 3: 2, 5: 2, 6: 3} {
		t.Run(fmt.Sprint(off), func(t *testing.T) {
			if got := idx.line(off); got != want {
				t.Errorf("line(%d) = %d, want %d", off, got, want)
			}
		})
	}
}

// FuzzParse: any input is either a clean error or builds that all have an
// image name and a tag, no image twice, and survive a Marshal round trip.
func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"builds":[{"imageName":"r/a","tag":"r/a:1@` + d1 + `"}]}`))
	f.Add([]byte(`{"builds":[{"imageName":"r/a","tag":"r/a"},{"imageName":"r/b","tag":"r/b"}],"x":[1,{"y":null}]}`))
	f.Add([]byte("{\"builds\":[\n]}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := Parse("f.json", data)
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, b := range out.Builds {
			if b.ImageName == "" || b.Tag == "" || seen[b.ImageName] {
				t.Fatalf("accepted %+v", b)
			}
			seen[b.ImageName] = true
		}
		enc, err := Marshal(out)
		if err != nil {
			t.Fatal(err)
		}
		back, err := Parse("f.json", enc)
		if err != nil || len(back.Builds) != len(out.Builds) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

// TestReadFile: a file or stdin ("-", named <stdin> in errors); a
// directory, a missing file and anything over MaxSize are refused, from a
// file before reading it.
func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	good := `{"builds":[{"imageName":"x","tag":"x:1"}]}`
	file := filepath.Join(dir, "build.json")
	os.WriteFile(file, []byte(good), 0o644)
	if out, err := ReadFile(file, nil); err != nil || len(out.Builds) != 1 {
		t.Errorf("file: %v %+v", err, out)
	}
	if out, err := ReadFile("-", strings.NewReader(good)); err != nil || len(out.Builds) != 1 {
		t.Errorf("stdin: %v %+v", err, out)
	}
	if _, err := ReadFile("-", strings.NewReader("{")); err == nil || !strings.HasPrefix(err.Error(), "<stdin>") {
		t.Errorf("stdin error: %v", err)
	}
	big := filepath.Join(dir, "big.json")
	os.WriteFile(big, nil, 0o644)
	os.Truncate(big, MaxSize+1)
	exact := filepath.Join(dir, "exact.json")
	os.WriteFile(exact, nil, 0o644)
	os.Truncate(exact, MaxSize)
	for name, want := range map[string]string{
		dir:                        "is a directory, not a build output file",
		filepath.Join(dir, "gone"): "no such file",
		big:                        "larger than any build output",
		exact:                      "not valid JSON", // read, then refused by the parser
	} {
		t.Run(fmt.Sprint(name), func(t *testing.T) {
			if _, err := ReadFile(name, nil); err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%s: %v, want %q", name, err, want)
			}
		})
	}
	if _, err := ReadFile("-", io.LimitReader(zeros{}, MaxSize+1)); err == nil || !strings.Contains(err.Error(), "<stdin>: larger than") {
		t.Errorf("stdin over the limit: %v", err)
	}
	if _, err := ReadFile("-", iotest.ErrReader(errors.New("broken pipe"))); err == nil || err.Error() != "<stdin>: broken pipe" {
		t.Errorf("stdin read error: %v", err)
	}
}

// zeros reads as endless NUL bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }
