package cwltest

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/eoap/cwlbuild/cwltest/expect"
	"github.com/eoap/cwlbuild/internal/genfile"
)

// checkExpected matches the run's output object (what the engine printed
// on its stdout) against the test's expected one; nil when the test
// expects only success. A mismatch names the output, the expected and
// the actual value.
func (r *Run) checkExpected() error {
	if r.Test == nil || r.Test.Expect == nil && r.Test.ExpectFile == "" {
		return nil
	}
	want := r.Test.Expect
	if r.Test.ExpectFile != "" {
		// A file of the package, checked to be in it when it loaded, and
		// read through no symlink now (the run came in between).
		root := r.Dir
		if rel, err := filepath.Rel(root, r.Test.ExpectFile); err != nil || !filepath.IsLocal(rel) {
			root = filepath.Dir(r.Test.ExpectFile) // --allow-outside-paths
		}
		data, err := genfile.Read(root, r.Test.ExpectFile)
		if err != nil {
			return fmt.Errorf("the expected outputs: %v", err)
		}
		if err := yaml.Unmarshal(data, &want); err != nil {
			return fmt.Errorf("the expected outputs %s: %v", r.Test.ExpectFile, err)
		}
	}
	data, err := genfile.Read(r.root(), r.Stdout)
	if err != nil {
		return fmt.Errorf("the run's output object: %v", err)
	}
	var got map[string]any
	if err := json.Unmarshal(data, &got); err != nil {
		return fmt.Errorf("the run's output object %s is not a JSON object: %v", r.Stdout, err)
	}
	return expect.Compare(want, got, r.outputFile)
}

// outputFile reads an output file for an expected "contents": a file of
// the test's volume only (a Job's paths are its run directory's, which
// was copied back into the volume), never through a link that leaves it.
func (r *Run) outputFile(path string) ([]byte, error) {
	if r.Job != nil {
		if rest, ok := strings.CutPrefix(path, r.Job.RunDir+"/"); ok {
			path = filepath.Join(r.Volume, filepath.FromSlash(rest))
		}
	}
	if rel, err := filepath.Rel(r.Volume, path); err != nil || !filepath.IsLocal(rel) {
		return nil, fmt.Errorf("%s is outside the test's volume %s", path, r.Volume)
	}
	return genfile.Read(r.Volume, path)
}
