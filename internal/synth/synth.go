// Package synth writes synthetic CWL application packages of any size, for
// benchmarks and the bench script: project.toml with n tools listed in
// reverse alphabetical order (the order the shell Taskfile got wrong), one
// build context each, one packed CWL workflow holding every tool, and the
// build output Skaffold would write for them.
package synth

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
)

// Package names the files Write created.
type Package struct {
	Dir, Project, CWL, BuildJSON string
	Tools                        []string // in project.toml order
}

// Registry is the registry the synthetic tools are built for.
const Registry = "localhost:5000/synth"

// Write creates a package of n tools in dir. Every third tool has no
// DockerRequirement, so patching it means injecting one; the others carry a
// hint to update.
func Write(dir string, n int) (*Package, error) {
	pkg := &Package{
		Dir:       dir,
		Project:   filepath.Join(dir, "project.toml"),
		CWL:       filepath.Join(dir, "app.cwl"),
		BuildJSON: filepath.Join(dir, "build.json"),
	}
	for i := n - 1; i >= 0; i-- {
		pkg.Tools = append(pkg.Tools, fmt.Sprintf("tool%05d", i))
	}
	if err := writeContext(dir); err != nil {
		return nil, err
	}
	err := writeWith(pkg.Project, func(w *bufio.Writer) {
		fmt.Fprintf(w, "[project]\nname = \"synth\"\nversion = \"0.1.0\"\n\n[build]\nengine = \"local\"\n\n[build.local]\nruntime = \"podman\"\nregistry = %q\n", Registry)
		for _, t := range pkg.Tools {
			fmt.Fprintf(w, "\n[tools.%s]\ncontext = \"context\"\npath = \"app.cwl#%s\"\n", t, t)
		}
	})
	if err != nil {
		return nil, err
	}
	err = writeWith(pkg.CWL, func(w *bufio.Writer) {
		w.WriteString("cwlVersion: v1.2\n# synthetic package\n$graph:\n  - class: Workflow\n    id: main\n    inputs:\n      msg: string\n    outputs: []\n    steps:\n")
		for _, t := range pkg.Tools {
			fmt.Fprintf(w, "      %s: {run: \"#%s\", in: {msg: msg}, out: [out]}\n", t, t)
		}
		for i, t := range pkg.Tools {
			fmt.Fprintf(w, "\n  - class: CommandLineTool\n    id: %s\n", t)
			if i%3 != 0 {
				fmt.Fprintf(w, "    hints:\n      DockerRequirement:\n        dockerPull: %s/%s:latest  # pinned by cwlpatch\n", Registry, t)
			}
			fmt.Fprintf(w, "    baseCommand: [echo, %s]\n    inputs:\n      msg:\n        type: string\n        inputBinding: {position: 1}\n    outputs:\n      out: stdout\n", t)
		}
	})
	if err != nil {
		return nil, err
	}
	if err := writeBuildJSON(pkg); err != nil {
		return nil, err
	}
	return pkg, nil
}

// WriteSplit creates a package of n tools in dir, each in a single-process
// CWL file of its own (tools/NAME.cwl) with a hint to update: the shape
// where one run rewrites many files, for the interruption tests.
func WriteSplit(dir string, n int) (*Package, error) {
	pkg := &Package{Dir: dir, Project: filepath.Join(dir, "project.toml"), BuildJSON: filepath.Join(dir, "build.json")}
	for i := 0; i < n; i++ {
		pkg.Tools = append(pkg.Tools, fmt.Sprintf("tool%05d", i))
	}
	if err := os.MkdirAll(filepath.Join(dir, "tools"), 0o755); err != nil {
		return nil, err
	}
	if err := writeContext(dir); err != nil {
		return nil, err
	}
	err := writeWith(pkg.Project, func(w *bufio.Writer) {
		fmt.Fprintf(w, "[project]\nname = \"synth\"\n\n[build]\nengine = \"local\"\n\n[build.local]\nruntime = \"podman\"\nregistry = %q\n", Registry)
		for _, t := range pkg.Tools {
			fmt.Fprintf(w, "\n[tools.%s]\ncontext = \"context\"\npath = \"tools/%s.cwl\"\n", t, t)
		}
	})
	if err != nil {
		return nil, err
	}
	for _, t := range pkg.Tools {
		err := writeWith(filepath.Join(dir, "tools", t+".cwl"), func(w *bufio.Writer) {
			fmt.Fprintf(w, "cwlVersion: v1.2\nclass: CommandLineTool\nid: %s\nhints:\n  DockerRequirement:\n    dockerPull: %s/%s:latest\nbaseCommand: [echo, %s]\ninputs: []\noutputs: []\n", t, Registry, t, t)
		})
		if err != nil {
			return nil, err
		}
	}
	if err := writeBuildJSON(pkg); err != nil {
		return nil, err
	}
	return pkg, nil
}

// writeContext writes the build context every synthetic tool shares.
func writeContext(dir string) error {
	if err := os.MkdirAll(filepath.Join(dir, "context"), 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "context", "Dockerfile"), []byte("FROM docker.io/library/busybox:1.36\n"), 0o644)
}

// writeBuildJSON writes the build output Skaffold would record for the
// package's tools, each with its own digest.
func writeBuildJSON(pkg *Package) error {
	return writeWith(pkg.BuildJSON, func(w *bufio.Writer) {
		w.WriteString(`{"builds":[`)
		for i, t := range pkg.Tools {
			if i > 0 {
				w.WriteByte(',')
			}
			img := Registry + "/" + t
			fmt.Fprintf(w, `{"imageName":%q,"tag":"%s:v1@sha256:%064x"}`, img, img, i+1)
		}
		w.WriteString("]}\n")
	})
}

func writeWith(path string, fill func(*bufio.Writer)) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	fill(w)
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
