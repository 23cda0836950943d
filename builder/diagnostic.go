package builder

import (
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strconv"
)

// Severity says whether a diagnostic fails a check.
type Severity string

// The severities: an error fails `cwlbuild check` (exit 1), a warning is
// printed and does not.
const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
)

// Diagnostic is one problem a stage found, where it is: the one shape every
// check reports in (load, generate's outputs, cwlpatch's rules), printed as
// "file:line: message" or, for CI annotations, as JSON (`cwlbuild check
// --format json`).
type Diagnostic struct {
	File     string   `json:"file,omitempty"`
	Line     int      `json:"line,omitempty"`
	Key      string   `json:"key,omitempty"` // the project.toml key, when it is about one
	Severity Severity `json:"severity"`
	Message  string   `json:"message"` // without the file:line prefix
	// Rule names the application-package rule a conformance finding is
	// about ("app-package/docker"); `check --strict` makes those errors.
	Rule string `json:"rule,omitempty"`
}

// String is the diagnostic as a line of text: "file:line: message".
func (d Diagnostic) String() string {
	switch {
	case d.File != "" && d.Line > 0:
		return fmt.Sprintf("%s:%d: %s", d.File, d.Line, d.Message)
	case d.File != "":
		return fmt.Sprintf("%s: %s", d.File, d.Message)
	}
	return d.Message
}

// Error makes a diagnostic an error too, reading as String.
func (d Diagnostic) Error() string { return d.String() }

// Warnings are diagnostics of severity warning made of errors.
func warnings(errs []error) []Diagnostic {
	var out []Diagnostic
	for _, e := range errs {
		out = append(out, Diagnose(e, SeverityWarning)...)
	}
	return out
}

// positioned is an error message of another stage: "file:line: message".
var positioned = regexp.MustCompile(`^([^\s:]+):(\d+): (?s:(.*))$`)

// Diagnose turns err into diagnostics of severity sev, one per problem:
// each *Error of a load (with its key) and each error of a list (Errors,
// errors.Join) becomes one; a message that starts "file:line: " keeps that
// place.
func Diagnose(err error, sev Severity) []Diagnostic {
	if err == nil {
		return nil
	}
	switch e := err.(type) {
	case interface{ Unwrap() []error }: // Errors, errors.Join
		var out []Diagnostic
		for _, one := range e.Unwrap() {
			out = append(out, Diagnose(one, sev)...)
		}
		return out
	case *Error:
		return []Diagnostic{{File: e.File, Line: e.Line, Key: e.Key, Severity: sev, Message: e.Msg}}
	}
	msg := err.Error()
	if m := positioned.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[2])
		return []Diagnostic{{File: m[1], Line: line, Severity: sev, Message: m[3]}}
	}
	return []Diagnostic{{Severity: sev, Message: msg}}
}

// Check is builder's part of `cwlbuild check` on a loaded plan: the load's
// warnings, and the images a cluster build's pods pull from registries
// project.toml names nowhere else (PodImageWarnings).
func Check(p *Plan) []Diagnostic {
	return append(append([]Diagnostic(nil), p.Warnings...), p.PodImageWarnings()...)
}

// WriteJSON writes diags as an indented JSON list ([] for none): what
// every command's --format json prints.
func WriteJSON(w io.Writer, diags []Diagnostic) error {
	if diags == nil {
		diags = []Diagnostic{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(diags)
}
