package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eoap/cwlbuild/builder"
	"github.com/eoap/cwlbuild/internal/testenv"
)

func digest(n int) string { return fmt.Sprintf("sha256:%064x", n) }

func TestCheckModes(t *testing.T) {
	dir := setupCase(t, "order")
	t.Chdir(dir)
	// Before patching: --check without a build output lists every unpinned tool.
	out, _, code := run(t, "", "--check")
	if code != 1 || strings.Count(out, "not pinned by digest") != 3 {
		t.Errorf("--check before patching: exit %d, output:\n%s", code, out)
	}
	// --format json: the same findings as diagnostics, each at its file
	// and line; json without --check is bad usage.
	out, _, code = run(t, "", "--check", "--format", "json")
	var diags []builder.Diagnostic
	if err := json.Unmarshal([]byte(out), &diags); code != 1 || err != nil || len(diags) != 3 ||
		diags[0].File == "" || diags[0].Line == 0 || diags[0].Severity != builder.SeverityError || !strings.Contains(diags[0].Message, "not pinned by digest") {
		t.Errorf("--check --format json: exit %d, %v:\n%s", code, err, out)
	}
	if _, _, code := run(t, "", "--format", "json", "build.json"); code != 2 {
		t.Errorf("--format json without --check: exit %d, want 2", code)
	}
	if _, stderr, code := run(t, "", "build.json"); code != 0 {
		t.Fatalf("patch: exit %d: %s", code, stderr)
	}
	if out, stderr, code := run(t, "", "--check", "--format", "json"); code != 0 || strings.TrimSpace(out) != "[]" {
		t.Errorf("--check --format json after patching: exit %d: %s%s", code, out, stderr)
	}
	if out, stderr, code := run(t, "", "--check"); code != 0 {
		t.Errorf("--check after patching: exit %d: %s%s", code, out, stderr)
	}
	if out, stderr, code := run(t, "", "--check", "build.json"); code != 0 || out != "" {
		t.Errorf("--check build.json after patching: exit %d: %s%s", code, out, stderr)
	}
	// A newer build of one tool: --check reports the stale file with a diff.
	newer := `{"builds":[{"imageName":"localhost:5000/pkg/mid","tag":"localhost:5000/pkg/mid:v2@` + digest(9) + `"}]}`
	os.WriteFile("newer.json", []byte(newer), 0o644)
	out, _, code = run(t, "", "--check", "newer.json")
	if code != 1 || !strings.Contains(out, "+      DockerRequirement: {dockerPull: 'localhost:5000/pkg/mid:v2@"+digest(9)) {
		t.Errorf("--check with a newer build: exit %d, output:\n%s", code, out)
	}
}

func TestStdinAndPinForms(t *testing.T) {
	dir := setupCase(t, "single")
	t.Chdir(dir)
	build := `{"builds":[{"imageName":"registry.example.org/eoap/crop","tag":"registry.example.org/eoap/crop:latest@` + digest(1) + `"}]}`
	if _, stderr, code := run(t, build, "-"); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	data, _ := os.ReadFile("crop.cwl")
	if !strings.Contains(string(data), "dockerPull: registry.example.org/eoap/crop@"+digest(1)+"\n") {
		t.Errorf("a latest tag was not dropped:\n%s", data)
	}
}

func TestKeepsModeAndSymlink(t *testing.T) {
	dir := setupCase(t, "single")
	t.Chdir(dir)
	os.Rename("crop.cwl", "real-crop.cwl")
	os.Symlink("real-crop.cwl", "crop.cwl")
	os.Chmod("real-crop.cwl", 0o754)
	if _, stderr, code := run(t, "", "build.json"); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	fi, err := os.Lstat("crop.cwl")
	if err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("crop.cwl is no longer a symlink: %v", err)
	}
	st, _ := os.Stat("real-crop.cwl")
	data, _ := os.ReadFile("real-crop.cwl")
	if st.Mode().Perm() != 0o754 || !strings.Contains(string(data), "@sha256:") {
		t.Errorf("target mode %v, pinned %v", st.Mode().Perm(), strings.Contains(string(data), "@sha256:"))
	}
}

func TestWarnings(t *testing.T) {
	dir := setupCase(t, "order")
	t.Chdir(dir)
	data, _ := os.ReadFile("app.cwl")
	// alpha carries a stale dockerImageId, which cwltool would run instead
	// of the pin: refused, nothing written.
	stale := strings.Replace(string(data), "        dockerPull: \"localhost:5000/pkg/alpha:latest\"\n", "        dockerPull: \"localhost:5000/pkg/alpha:latest\"\n        dockerImageId: alpha-old\n", 1)
	os.WriteFile("app.cwl", []byte(stale), 0o644)
	_, stderr, code := run(t, "", "build.json")
	if now, _ := os.ReadFile("app.cwl"); code != 1 || !strings.Contains(stderr, `has dockerImageId "alpha-old" beside dockerPull`) || string(now) != stale {
		t.Errorf("dockerImageId: exit %d, file kept %v: %s", code, string(now) == stale, stderr)
	}
	// The workflow pins its own image for every step: that defeats the
	// pin of a tool whose image is a hint, and is reported.
	s := strings.Replace(string(data), "    id: main\n", "    id: main\n    requirements:\n      DockerRequirement: {dockerPull: busybox}\n", 1)
	os.WriteFile("app.cwl", []byte(s), 0o644)
	_, stderr, code = run(t, "", "build.json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "overrides") {
		t.Errorf("stderr lacks the override:\n%s", stderr)
	}
}

func TestUsageErrors(t *testing.T) {
	dir := setupCase(t, "order")
	t.Chdir(dir)
	for _, args := range [][]string{
		{},
		{"a.json", "b.json"},
		{"--pin", "sha", "build.json"},
		{"--image", "localhost:5000/pkg/alpha:v1", "build.json"},
	} {
		if _, stderr, code := run(t, "", args...); code != 2 || stderr == "" {
			t.Errorf("cwlpatch %v: exit %d, stderr %q; want 2 and a message", args, code, stderr)
		}
	}
	if _, stderr, code := run(t, "", "missing.json"); code != 1 || !strings.Contains(stderr, "missing.json") {
		t.Errorf("missing build output: exit %d: %s", code, stderr)
	}
	if _, stderr, code := run(t, "", "-f", "nope.toml", "build.json"); code != 1 || !strings.Contains(stderr, "nope.toml") {
		t.Errorf("missing project: exit %d: %s", code, stderr)
	}
}

// TestAnchorPackage patches the anchor's own package (eoap/advanced-tooling,
// 5 tools, two of them without any DockerRequirement) with builds listed in a
// different order than the tools, and validates the result with cwltool.
func TestAnchorPackage(t *testing.T) {
	dir := testenv.CopyDir(t, "../../testdata/projects/anchor")
	t.Chdir(dir)
	tools := []string{"stac-geoparquet", "otsu", "crop", "stac", "norm_diff"}
	var builds []string
	for i, name := range tools {
		img := "ghcr.io/eoap/" + name
		builds = append(builds, fmt.Sprintf(`{"imageName":%q,"tag":"%s:1.0@%s"}`, img, img, digest(i+1)))
	}
	os.WriteFile("build.json", []byte(`{"builds":[`+strings.Join(builds, ",")+`]}`), 0o644)
	_, stderr, code := run(t, "", "build.json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if _, _, code := run(t, "", "--check"); code != 0 {
		t.Error("--check after patching every tool failed")
	}
	file := filepath.Join("cwl-workflow", "app-water-bodies-cloud-native.cwl")
	data, _ := os.ReadFile(file)
	for i, name := range tools {
		if !strings.Contains(string(data), "ghcr.io/eoap/"+name+":1.0@"+digest(i+1)) {
			t.Errorf("tool %s is not pinned to its own build", name)
		}
	}
	cwltool := testenv.LookPath(t, "cwltool")
	if out, err := exec.Command(cwltool, "--validate", file).CombinedOutput(); err != nil {
		t.Errorf("cwltool --validate: %v\n%s", err, out)
	}
}

// TestConcurrentRuns starts runs that pin different tools of one file at
// the same moment. Without the lock each would read the old file and the
// last rename would drop the others' pins; serialized, every pin lands.
func TestConcurrentRuns(t *testing.T) {
	dir := setupCase(t, "order")
	bin := testenv.BuildBinary(t, "./cmd/cwlpatch")
	original, _ := os.ReadFile(filepath.Join(dir, "app.cwl"))
	tools := []string{"zeta", "alpha", "mid"}
	for i, tool := range tools {
		img := "localhost:5000/pkg/" + tool
		build := fmt.Sprintf(`{"builds":[{"imageName":%q,"tag":"%s:r@%s"}]}`, img, img, digest(100+i))
		os.WriteFile(filepath.Join(dir, tool+".json"), []byte(build), 0o644)
	}
	overlapped := 0
	for round := 0; round < 10; round++ {
		os.WriteFile(filepath.Join(dir, "app.cwl"), original, 0o644)
		var wg sync.WaitGroup
		start := make(chan struct{})
		starts, ends := make([]time.Time, len(tools)), make([]time.Time, len(tools))
		for i, tool := range tools {
			wg.Add(1)
			go func() {
				defer wg.Done()
				cmd := exec.Command(bin, "-q", tool+".json")
				cmd.Dir = dir
				<-start
				starts[i] = time.Now()
				out, err := cmd.CombinedOutput()
				ends[i] = time.Now()
				if err != nil {
					t.Errorf("%s: %v: %s", tool, err, out)
				}
			}()
		}
		close(start)
		wg.Wait()
		// The runs overlapped when one started before another ended.
		if starts[0].Before(ends[1]) && starts[1].Before(ends[0]) || starts[1].Before(ends[2]) && starts[2].Before(ends[1]) {
			overlapped++
		}
		data, _ := os.ReadFile(filepath.Join(dir, "app.cwl"))
		for i, tool := range tools {
			if !strings.Contains(string(data), "localhost:5000/pkg/"+tool+":r@"+digest(100+i)) {
				t.Fatalf("round %d: the pin of %s was lost:\n%s", round, tool, data)
			}
		}
	}
	if overlapped < 7 {
		t.Errorf("only %d of 10 rounds ran at the same time: the test proves nothing", overlapped)
	}
}

// TestHookMode is cwlpatch as a Skaffold after-build hook: SKAFFOLD_IMAGE
// carries a tag only, and the digest comes from a real registry.
func TestHookMode(t *testing.T) {
	reg := testenv.StartRegistry(t)
	dir := setupCase(t, "order")
	t.Chdir(dir)
	for _, f := range []string{"project.toml", "app.cwl"} {
		data, _ := os.ReadFile(f)
		os.WriteFile(f, []byte(strings.ReplaceAll(string(data), "localhost:5000", reg.Host)), 0o644)
	}
	reg.PushBase(t)
	image := reg.Host + "/pkg/mid:hook"
	skopeo := testenv.LookPath(t, "skopeo")
	if out, err := exec.Command(skopeo, "copy", "--quiet", "--src-tls-verify=false", "--dest-tls-verify=false", "docker://"+reg.Host+"/library/busybox:1.36", "docker://"+image).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	want := reg.Digest(t, image)
	if _, stderr, code := run(t, "", "--image", image); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	data, _ := os.ReadFile("app.cwl")
	if !strings.Contains(string(data), "'"+image+"@"+want+"'") {
		t.Errorf("mid is not pinned to %s@%s:\n%s", image, want, data)
	}
	if _, stderr, code := run(t, "", "--image", reg.Host+"/pkg/mid:no-such-tag"); code != 1 || !strings.Contains(stderr, "cannot read the digest") {
		t.Errorf("unknown tag: exit %d: %s", code, stderr)
	}
}

// TestOneFileSpelledTwice: "app.cwl" and "./app.cwl" are the same file; both
// tools' pins must land in it, not one overwriting the other.
func TestOneFileSpelledTwice(t *testing.T) {
	for name, spelling := range map[string]string{"dot": "./app.cwl", "dot-dot": "sub/../app.cwl", "symlink": "link.cwl"} {
		t.Run(name, func(t *testing.T) {
			dir := setupCase(t, "order")
			t.Chdir(dir)
			os.Mkdir("sub", 0o755)
			os.Symlink("app.cwl", "link.cwl")
			data, _ := os.ReadFile("project.toml")
			os.WriteFile("project.toml", []byte(strings.Replace(string(data), `path = "app.cwl#alpha"`, `path = "`+spelling+`#alpha"`, 1)), 0o644)
			if _, stderr, code := run(t, "", "build.json"); code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			out, _ := os.ReadFile("app.cwl")
			if n := strings.Count(string(out), "@sha256:"); n != 3 {
				t.Errorf("%d pins in app.cwl, want 3:\n%s", n, out)
			}
			if st, err := os.Lstat("link.cwl"); err != nil || st.Mode()&os.ModeSymlink == 0 {
				t.Error("the symlink was replaced")
			}
			// A second run changes nothing: every pin was kept.
			if _, stderr, code := run(t, "", "build.json"); code != 0 || !strings.Contains(stderr, "0 of 3 tools pinned") {
				t.Errorf("second run: exit %d: %s", code, stderr)
			}
		})
	}
}

// TestSharedFileTwoPackages runs cwlpatch on two packages that share one
// CWL file, both at once, many times: the lock on the CWL file keeps both
// pins every time. The runs are checked to overlap in time, so the test
// cannot pass by the runs happening one after the other.
func TestSharedFileTwoPackages(t *testing.T) {
	bin := testenv.BuildBinary(t, "./cmd/cwlpatch")
	dir := setupCase(t, "order")
	shared := filepath.Join(dir, "app.cwl")
	original, _ := os.ReadFile(shared)
	var projects []string
	for i, tool := range []string{"zeta", "alpha"} {
		pkg := filepath.Join(dir, "pkg-"+tool)
		os.Mkdir(pkg, 0o755)
		toml := fmt.Sprintf("[build]\nengine = \"local\"\n[build.local]\nregistry = \"localhost:5000/pkg\"\n[tools.%s]\ncontext = \".\"\npath = \"../app.cwl#%s\"\n", tool, tool)
		os.WriteFile(filepath.Join(pkg, "project.toml"), []byte(toml), 0o644)
		img := "localhost:5000/pkg/" + tool
		os.WriteFile(filepath.Join(pkg, "build.json"), []byte(fmt.Sprintf(`{"builds":[{"imageName":%q,"tag":"%s:r@%s"}]}`, img, img, digest(200+i))), 0o644)
		projects = append(projects, pkg)
	}
	overlapped := 0
	for round := 0; round < 15; round++ {
		os.WriteFile(shared, original, 0o644)
		var wg sync.WaitGroup
		starts, ends := make([]time.Time, 2), make([]time.Time, 2)
		begin := make(chan struct{})
		for i, pkg := range projects {
			wg.Add(1)
			go func() {
				defer wg.Done()
				cmd := exec.Command(bin, "-q", "--allow-outside-paths", "-f", filepath.Join(pkg, "project.toml"), filepath.Join(pkg, "build.json"))
				<-begin
				starts[i] = time.Now()
				out, err := cmd.CombinedOutput()
				ends[i] = time.Now()
				if err != nil {
					t.Errorf("%s: %v: %s", pkg, err, out)
				}
			}()
		}
		close(begin)
		wg.Wait()
		if starts[0].Before(ends[1]) && starts[1].Before(ends[0]) {
			overlapped++
		}
		data, _ := os.ReadFile(shared)
		for i, tool := range []string{"zeta", "alpha"} {
			if !strings.Contains(string(data), "localhost:5000/pkg/"+tool+":r@"+digest(200+i)) {
				t.Fatalf("round %d: the pin of %s was lost:\n%s", round, tool, data)
			}
		}
	}
	if overlapped < 10 {
		t.Errorf("only %d of 15 rounds ran the two packages at the same time", overlapped)
	}
}

// TestREADMESynopsis: the synopsis README shows is the program's own first
// usage line.
func TestREADMESynopsis(t *testing.T) {
	want, _, _ := strings.Cut(newApp().UsageText, "\n")
	n := 0
	for _, b := range testenv.READMEBlocks(t) {
		for _, line := range strings.Split(b.Text, "\n") {
			if b.Lang == "text" && strings.HasPrefix(line, "cwlpatch ") {
				n++
				if line != want {
					t.Errorf("%s:%d: synopsis\n  %s\nthe usage line is\n  %s", b.File, b.Line, line, want)
				}
			}
		}
	}
	if n != 1 {
		t.Errorf("README.md has %d cwlpatch synopses, want 1", n)
	}
}

func TestVersion(t *testing.T) {
	stdout, stderr, code := run(t, "", "--version")
	if code != 0 || !strings.HasPrefix(stdout, "cwlpatch version ") {
		t.Errorf("--version: exit %d %q %q", code, stdout, stderr)
	}
}

// TestFlagsAfterBuildJSON: flags given after BUILD_JSON are read as flags,
// a value-taking one with its value.
func TestFlagsAfterBuildJSON(t *testing.T) {
	dir := testenv.CopyDir(t, "../../testdata/projects/sample")
	build := filepath.Join(dir, "build.json")
	digest := strings.Repeat("d", 64)
	os.WriteFile(build, []byte(`{"builds":[{"imageName":"127.0.0.1:5000/eoap-sample/crop","tag":"127.0.0.1:5000/eoap-sample/crop:x@sha256:`+digest+`"}]}`), 0o644)
	cwl := filepath.Join(dir, "cwl-workflow", "app-water-bodies.cwl")
	before, _ := os.ReadFile(cwl)
	stdout, stderr, code := run(t, "", build, "-f", filepath.Join(dir, "project.toml"), "--dry-run", "--pin=digest")
	if code != 0 || !strings.Contains(stderr, "1 of 1 tools would pin") || !strings.Contains(stdout, "+        dockerPull: 127.0.0.1:5000/eoap-sample/crop@sha256:"+digest) {
		t.Errorf("exit %d: %s%s", code, stdout, stderr)
	}
	if after, _ := os.ReadFile(cwl); string(after) != string(before) {
		t.Error("--dry-run after BUILD_JSON was not read as a flag: the file changed")
	}
}
