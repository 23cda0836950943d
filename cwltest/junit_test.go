package cwltest

import (
	"bytes"
	"encoding/xml"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eoap/cwlbuild/builder"
)

// TestWriteJUnit reads the report back with an XML parser, into the
// elements and attributes JUnit readers (GitLab's, GitHub's test
// summaries) use: counts, one testcase per test with its time, the
// failure's message, the logs (their end only, and no character XML
// forbids), and the test that did not run as skipped.
func TestWriteJUnit(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.out"), []byte(`{"water": {"class": "File"}}`), 0o644)
	os.WriteFile(filepath.Join(dir, "a.err"), []byte("INFO start\x1b[31m\x00 ]]> <x>\x1b[0m\n::error::all passed\nINFO final process status is success\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "b.err"), []byte(strings.Repeat("noise line\n", 20000)+"ERROR tool exited 1\n"), 0o644)
	// The package's log files are its own: one that is a link leaving the
	// package is not read into the report.
	secret := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(secret, []byte("TOKEN=hunter2\n"), 0o600)
	os.Symlink(secret, filepath.Join(dir, "b.out"))
	run := func(id, name string, engine builder.Engine) *Run {
		return &Run{Test: &builder.TestPlan{ID: id, Name: name}, Engine: engine, Dir: dir, Volume: dir,
			Stdout: filepath.Join(dir, id+".out"), Stderr: filepath.Join(dir, id+".err")}
	}
	runs := []*Run{run("a", "water bodies", builder.EngineLocal), run("b", `a "quoted" <name>`, builder.EngineLocal), run("c", "", builder.EngineLocal)}
	results := []Result{{Run: runs[0], Duration: 1500 * time.Millisecond}, {Run: runs[1], Err: errors.New("cwltool exited 1 & more"), Duration: 2 * time.Second}}
	var buf bytes.Buffer
	if err := WriteJUnit(&buf, "eoap-sample", runs, results); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		XMLName  xml.Name `xml:"testsuites"`
		Tests    int      `xml:"tests,attr"`
		Failures int      `xml:"failures,attr"`
		Skipped  int      `xml:"skipped,attr"`
		Suites   []struct {
			Name     string `xml:"name,attr"`
			Tests    int    `xml:"tests,attr"`
			Failures int    `xml:"failures,attr"`
			Skipped  int    `xml:"skipped,attr"`
			Time     string `xml:"time,attr"`
			Cases    []struct {
				Name      string `xml:"name,attr"`
				Classname string `xml:"classname,attr"`
				Time      string `xml:"time,attr"`
				Failure   *struct {
					Message string `xml:"message,attr"`
				} `xml:"failure"`
				Skipped   *struct{} `xml:"skipped"`
				SystemOut string    `xml:"system-out"`
				SystemErr string    `xml:"system-err"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if strings.ContainsAny(buf.String(), "\x00\x1b") {
		t.Errorf("the report holds characters XML forbids:\n%q", buf.String())
	}
	if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("the report does not parse: %v\n%s", err, buf.String())
	}
	if doc.Tests != 3 || doc.Failures != 1 || doc.Skipped != 1 || len(doc.Suites) != 1 || doc.Suites[0].Failures != 1 || doc.Suites[0].Skipped != 1 {
		t.Fatalf("counts %+v", doc)
	}
	s := doc.Suites[0]
	if s.Name != "eoap-sample" || s.Tests != 3 || s.Time != "3.500" || len(s.Cases) != 3 {
		t.Fatalf("suite %+v", s)
	}
	a, b, c := s.Cases[0], s.Cases[1], s.Cases[2]
	if a.Name != "water bodies" || a.Classname != "a.local" || a.Time != "1.500" || a.Failure != nil || a.Skipped != nil ||
		!strings.Contains(a.SystemOut, `"water"`) || !strings.Contains(a.SystemErr, "]]> <x>") || !strings.Contains(a.SystemErr, "final process status is success") ||
		!strings.Contains(a.SystemErr, "INFO start\\x00 ]]> <x>\n") || strings.Contains(a.SystemErr, "\n::error") {
		t.Errorf("passed test %+v", a)
	}
	if strings.Contains(buf.String(), "hunter2") || b.SystemOut != "" {
		t.Errorf("a log linked out of the package was read: system-out %q", b.SystemOut)
	}
	if b.Name != `a "quoted" <name>` || b.Failure == nil || b.Failure.Message != "cwltool exited 1 & more" ||
		len(b.SystemErr) > MaxJUnitLog+100 || !strings.HasSuffix(b.SystemErr, "ERROR tool exited 1\n") || !strings.HasPrefix(b.SystemErr, "[... cut") {
		t.Errorf("failed test: name %q failure %+v, system-err %d bytes", b.Name, b.Failure, len(b.SystemErr))
	}
	if c.Skipped == nil || c.Failure != nil {
		t.Errorf("the test that did not run: %+v", c)
	}
}
