package api

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestRoundTrip reads each file of testdata, which the main module's copy
// of this package reads too, strictly (an unknown key fails), checks that
// it sets every field (so that a field one side lacks cannot hide), and
// writes it back byte for byte.
func TestRoundTrip(t *testing.T) {
	for file, v := range map[string]any{"job.json": &Job{}, "preflight.json": &Preflight{}, "result.json": &Result{}, "account.json": &Account{}, "kaniko.json": &KanikoBuild{}, "kanikoresult.json": &KanikoResult{}} {
		t.Run(file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", file))
			if err != nil {
				t.Fatal(err)
			}
			dec := json.NewDecoder(bytes.NewReader(data))
			dec.DisallowUnknownFields()
			if err := dec.Decode(v); err != nil {
				t.Fatal(err)
			}
			if path := zeroField(reflect.ValueOf(v).Elem(), ""); path != "" {
				t.Errorf("%s leaves %s unset: set every field, so that both sides read it", file, path)
			}
			got, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			if want := bytes.TrimSpace(data); !bytes.Equal(got, want) {
				t.Errorf("written back:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

// zeroField is the path of the first field of v, recursively through
// structs and the first element of slices, that holds its zero value.
func zeroField(v reflect.Value, path string) string {
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			if p := zeroField(v.Field(i), path+"."+v.Type().Field(i).Name); p != "" {
				return p
			}
		}
		return ""
	case reflect.Slice:
		if v.Len() == 0 {
			return path
		}
		return zeroField(v.Index(0), path+"[0]")
	}
	if v.IsZero() {
		return path
	}
	return ""
}

func TestRunDir(t *testing.T) {
	if got := RunDir("r1"); got != "/calrissian/r1" {
		t.Errorf("RunDir = %q", got)
	}
}

// TestParseResult: a report line reads back as the result that wrote it;
// other lines are no result.
func TestParseResult(t *testing.T) {
	for _, r := range []Result{
		{Check: "base image of crop, otsu", OK: true, Detail: "127.0.0.1:5000/hub/busybox:1.36 resolves: sha256:ab"},
		{Check: "push secret", Detail: `"s" does not exist in namespace "ns": the Kaniko pods would never start`},
	} {
		if got, ok := ParseResult(r.String()); !ok || got != r {
			t.Errorf("ParseResult(%q) = %+v, %v", r.String(), got, ok)
		}
	}
	for _, line := range []string{"the probe pod was not started: it needs the same permissions", "ok    no colon", "FAIL  : empty check", ""} {
		if r, ok := ParseResult(line); ok {
			t.Errorf("ParseResult(%q) = %+v", line, r)
		}
	}
}
