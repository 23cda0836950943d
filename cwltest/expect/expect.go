// Package expect says whether a CWL run's output object is the one a test
// expects, by the rules cwltest (the CWL community's test runner) applies,
// so that a suite written for cwltest passes or fails here alike:
//
//   - "Any" matches any value, none included;
//   - an expected value other than null needs an actual one;
//   - a File matches on its location (or path) by suffix: the actual one
//     ends with "/" and the expected one, or has no "/" and equals it;
//     "Any" skips it. Its contents, when expected, are the file's bytes
//     exactly; every other key written (class, checksum, size, basename,
//     format, secondaryFiles, ...) matches by these rules;
//   - a Directory is a File whose listing holds, in any order, an entry
//     matching each expected one;
//   - any other object matches key by key, and an actual key the expected
//     object lacks must be null;
//   - a list matches element by element, of the same length;
//   - anything else is equal (numbers by value: 2 and 2.0 alike).
//
// Where they differ, Compare names the output and the path to the first
// value that differs, with both values.
package expect

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Any is the expected value that matches whatever is there.
const Any = "Any"

// Files reads an output file's contents (the actual object's path) for an
// expected "contents".
type Files func(path string) ([]byte, error)

// Mismatch is an output that is not what the test expects.
type Mismatch struct {
	// Path is where: the output's name, then keys and indexes
	// ("water.secondaryFiles[0].checksum").
	Path string
	// Expected and Actual are the values there (JSON), Why the rule that
	// failed.
	Expected, Actual string
	Why              string
}

func (m *Mismatch) Error() string {
	s := fmt.Sprintf("output %s: %s", m.Path, m.Why)
	if m.Expected != "" || m.Actual != "" {
		s += fmt.Sprintf(": expected %s, got %s", m.Expected, m.Actual)
	}
	return s
}

// Compare matches the actual output object against the expected one; the
// error is a *Mismatch.
func Compare(expected, actual map[string]any, files Files) error {
	return compare(expected, actual, "", files)
}

func compare(expected, actual any, path string, files Files) error {
	if s, ok := expected.(string); ok && s == Any {
		return nil
	}
	if expected != nil && actual == nil {
		return mismatch(path, expected, actual, "missing")
	}
	switch e := expected.(type) {
	case map[string]any:
		a, ok := actual.(map[string]any)
		if !ok {
			return mismatch(path, expected, actual, "not an object")
		}
		switch e["class"] {
		case "File":
			return compareFile(e, a, path, files)
		case "Directory":
			return compareDirectory(e, a, path, files)
		}
		for _, k := range slices.Sorted(maps.Keys(e)) {
			if err := compare(e[k], a[k], join(path, k), files); err != nil {
				return err
			}
		}
		for _, k := range slices.Sorted(maps.Keys(a)) {
			if _, ok := e[k]; !ok && a[k] != nil {
				return mismatch(join(path, k), nil, a[k], "not expected")
			}
		}
		return nil
	case []any:
		a, ok := actual.([]any)
		if !ok {
			return mismatch(path, expected, actual, "not a list")
		}
		if len(e) != len(a) {
			return mismatch(path, len(e), len(a), "lengths differ")
		}
		for i := range e {
			if err := compare(e[i], a[i], fmt.Sprintf("%s[%d]", path, i), files); err != nil {
				return err
			}
		}
		return nil
	}
	if !equal(expected, actual) {
		return mismatch(path, expected, actual, "differs")
	}
	return nil
}

func compareFile(e, a map[string]any, path string, files Files) error {
	if err := compareLocation(e, a, path); err != nil {
		return err
	}
	if want, ok := e["contents"]; ok {
		p, _ := a["path"].(string)
		if p == "" {
			p = strings.TrimPrefix(str(a["location"]), "file://")
		}
		data, err := files(p)
		if err != nil {
			return &Mismatch{Path: join(path, "contents"), Why: fmt.Sprintf("cannot be read: %v", err)}
		}
		if w, _ := want.(string); string(data) != w {
			return &Mismatch{Path: join(path, "contents"), Why: "differs", Expected: quote(w), Actual: quote(string(data))}
		}
	}
	for _, k := range slices.Sorted(maps.Keys(e)) {
		switch k {
		case "path", "location", "listing", "contents":
			continue
		}
		if err := compare(e[k], a[k], join(path, k), files); err != nil {
			return err
		}
	}
	return nil
}

func compareDirectory(e, a map[string]any, path string, files Files) error {
	if a["class"] != "Directory" {
		return mismatch(join(path, "class"), "Directory", a["class"], "differs")
	}
	listing, ok := a["listing"].([]any)
	if !ok {
		return mismatch(join(path, "listing"), e["listing"], a["listing"], "missing")
	}
	want, _ := e["listing"].([]any)
	for i, w := range want {
		found := slices.ContainsFunc(listing, func(got any) bool { return compare(w, got, "", files) == nil })
		if !found {
			return mismatch(fmt.Sprintf("%s.listing[%d]", path, i), w, nil, "no entry of the directory matches")
		}
	}
	return compareFile(e, a, path, files)
}

func compareLocation(e, a map[string]any, path string) error {
	key := "location"
	if _, ok := e["path"]; ok {
		key = "path"
	} else if _, ok := e["location"]; !ok {
		return nil
	}
	want := str(e[key])
	got := str(a[key])
	if key == "path" && got == "" {
		got = str(a["location"])
	}
	if a["class"] == "Directory" {
		got = strings.TrimRight(got, "/")
	}
	if want == Any || strings.HasSuffix(got, "/"+want) || (!strings.Contains(got, "/") && got == want) {
		return nil
	}
	return &Mismatch{Path: join(path, key), Why: "does not end with the expected name", Expected: quote(want), Actual: quote(got)}
}

// equal compares scalars as JSON does: every number by its value.
func equal(a, b any) bool {
	if fa, ok := number(a); ok {
		fb, ok := number(b)
		return ok && fa == fb
	}
	return a == b
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case float32:
		return float64(n), true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}

func mismatch(path string, expected, actual any, why string) *Mismatch {
	return &Mismatch{Path: path, Why: why, Expected: jsonText(expected), Actual: jsonText(actual)}
}

// jsonText is v as JSON, cut to a line's length.
func jsonText(v any) string {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return cut(string(data))
}

func quote(s string) string { return cut(fmt.Sprintf("%q", s)) }

func cut(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}

func str(v any) string { s, _ := v.(string); return s }

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
