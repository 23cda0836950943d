package main

import (
	"fmt"
	"os"

	"github.com/eoap/cwlbuild/builder"
	"github.com/eoap/cwlbuild/cwlpatch"
)

// checkProcesses reports every tool or workflow path whose CWL file does not
// parse or does not hold the named process id.
func checkProcesses(p *builder.Project) []error {
	docs := map[string]*cwlpatch.Document{} // nil: the file failed to load
	var errs []error
	check := func(ref, key string) {
		file, id := builder.SplitProcessRef(ref)
		doc, ok := docs[file]
		if ok && doc == nil {
			return
		}
		if !ok {
			data, err := os.ReadFile(p.Abs(file))
			if err == nil {
				doc, err = cwlpatch.ParseDocument(file, data)
			}
			if err != nil {
				docs[file] = nil
				errs = append(errs, fmt.Errorf("%v (%s, %s:%d)", err, key, p.File, p.Line(key)))
				return
			}
			docs[file] = doc
		}
		if _, err := doc.Find(id); err != nil {
			errs = append(errs, fmt.Errorf("%v (%s, %s:%d)", err, key, p.File, p.Line(key)))
		}
	}
	for _, t := range p.OrderedTools() {
		check(t.Path, "tools."+t.Name+".path")
	}
	for i, w := range p.Workflows {
		check(w.Path, fmt.Sprintf("workflows.%d.path", i))
	}
	return errs
}
