package cwltest

import (
	"encoding/xml"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/eoap/cwlbuild/internal/genfile"
	"github.com/eoap/cwlbuild/internal/logtext"
)

// MaxJUnitLog bounds each test's system-out and system-err in a JUnit
// report: the end of the log, where an error is.
const MaxJUnitLog = 64 << 10

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
	SystemErr string        `xml:"system-err,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

// WriteJUnit writes the runs as a JUnit XML report (`cwlbuild test
// --junit`), the format GitLab's test reports and GitHub's test summaries
// read: one testsuite named suite, one testcase per test (named by its
// display name, classed by its id and engine) with its time, a failure
// holding the error, and the end of the test's stdout and stderr (at most
// MaxJUnitLog bytes each); a test that did not run (after a failure
// without --keep-going) is skipped.
func WriteJUnit(w io.Writer, suite string, runs []*Run, results []Result) error {
	s := junitSuite{Name: suite}
	var total time.Duration
	for i, r := range runs {
		c := junitCase{Name: r.Test.DisplayName(), Classname: r.Test.ID + "." + string(r.Engine), Time: "0"}
		if i >= len(results) {
			c.Skipped = &junitSkipped{Message: "not run: an earlier test failed"}
			s.Skipped++
		} else {
			res := results[i]
			total += res.Duration
			c.Time = seconds(res.Duration)
			if res.Err != nil {
				msg := reportText(res.Err.Error())
				c.Failure = &junitFailure{Message: msg, Type: "failure", Text: msg}
				s.Failures++
			}
			// Calrissian's console, beside its --stdout and --stderr,
			// joins the error log.
			c.SystemOut, c.SystemErr = r.logTail(r.Stdout), r.logTail(r.Stderr)
			if _, engine := r.engineLog(); engine != r.Stderr {
				c.SystemErr += r.logTail(engine)
			}
		}
		s.Tests++
		s.Cases = append(s.Cases, c)
	}
	s.Time = seconds(total)
	doc := junitSuites{Name: suite, Tests: s.Tests, Failures: s.Failures, Skipped: s.Skipped, Time: s.Time, Suites: []junitSuite{s}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

// logTail is the end of one of the test's logs, at most MaxJUnitLog bytes
// from a line start; "" when it cannot be read.
func (r *Run) logTail(file string) string {
	if file == "" {
		return ""
	}
	data, err := genfile.Read(r.root(), file)
	if err != nil {
		return ""
	}
	if len(data) > MaxJUnitLog {
		data = data[len(data)-MaxJUnitLog:]
		if i := strings.IndexByte(string(data), '\n'); i >= 0 {
			data = data[i+1:]
		}
		data = append([]byte("[... cut to the last 64 KiB]\n"), data...)
	}
	return reportText(string(data))
}

// ansiCSI matches a terminal's colour and cursor sequences (ESC [ ... a
// letter), which cwltool writes into its log.
var ansiCSI = regexp.MustCompile("\x1b\\[[0-9;?]*[ -/]*[@-~]")

// reportText is a log as a report holds it: colour sequences dropped, and
// each line as logtext prints a line (other controls escaped, nothing a
// CI runner reads as a command), should a reader print it to a log.
func reportText(s string) string {
	lines := strings.Split(ansiCSI.ReplaceAllString(s, ""), "\n")
	for i, l := range lines {
		lines[i] = logtext.Line(l)
	}
	return strings.Join(lines, "\n")
}
