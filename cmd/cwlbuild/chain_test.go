package main

import (
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/eoap/cwlbuild/internal/testenv"
)

// TestChainEndToEnd runs what `task build` and the demo run, on the embedded
// sample, against real engines: generate, Skaffold building with buildah
// through `cwlbuild plugin` and pushing to a registry on 127.0.0.1, cwlpatch,
// then cwltool running the pinned workflow and the tool tests through
// `cwlbuild test`. Then the incremental cases: a no-op rebuild builds nothing
// and patches no byte; changing one tool rebuilds only that tool.
func TestChainEndToEnd(t *testing.T) {
	testenv.RequireImage(t, testenv.BaseImage)
	testenv.LookPath(t, "buildah")
	testenv.LookPath(t, "cwltool")
	sk := testenv.Skaffold(t)
	reg := testenv.StartRegistry(t)
	dir := testenv.CopyDir(t, "../../testdata/projects/sample")
	cwlFile := filepath.Join(dir, "cwl-workflow", "app-water-bodies.cwl")
	for _, f := range []string{filepath.Join(dir, "project.toml"), cwlFile} {
		data, _ := os.ReadFile(f)
		os.WriteFile(f, []byte(strings.ReplaceAll(string(data), "127.0.0.1:5000", reg.Host)), 0o644)
	}
	cwlbuild := testenv.BuildBinary(t, "./cmd/cwlbuild")
	cwlpatch := testenv.BuildBinary(t, "./cmd/cwlpatch")
	home := t.TempDir()
	project := filepath.Join(dir, "project.toml")

	if _, stderr, code := run(t, "generate", "-f", project, "--plugin-command", cwlbuild); code != 0 {
		t.Fatalf("generate: %s", stderr)
	}
	out, log := skaffoldBuildLog(t, sk, dir, home)
	if n := strings.Count(log, "Not found. Building"); n != 3 {
		t.Errorf("cold build: %d artifacts built, want 3\n%s", n, log)
	}
	before, _ := os.ReadFile(cwlFile)
	patch := func() string {
		t.Helper()
		cmd := exec.Command(cwlpatch, "-f", project, filepath.Join(dir, "build.json"))
		msg, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("cwlpatch: %v\n%s", err, msg)
		}
		return string(msg)
	}
	patch()
	after, _ := os.ReadFile(cwlFile)

	// Every tool pins the digest the registry serves, and only the three
	// dockerPull lines changed.
	pins := map[string]string{}
	for name, digest := range servedDigests(t, out, "") {
		// cwlpatch keeps the tag ([project] version) for people.
		pins[name] = name + ":0.1.0@" + digest
	}
	oldLines, newLines := strings.Split(string(before), "\n"), strings.Split(string(after), "\n")
	if len(oldLines) != len(newLines) {
		t.Fatalf("line count changed: %d -> %d", len(oldLines), len(newLines))
	}
	changed := 0
	for i := range oldLines {
		if oldLines[i] != newLines[i] {
			changed++
			if !strings.Contains(newLines[i], "dockerPull: ") {
				t.Errorf("line %d changed and is not a dockerPull: %q", i+1, newLines[i])
			}
		}
	}
	if changed != 3 {
		t.Errorf("%d lines changed, want 3", changed)
	}
	for img, pin := range pins {
		if !strings.Contains(string(after), "dockerPull: "+pin+"\n") {
			t.Errorf("%s is not pinned to %s", img, pin)
		}
	}

	// cwltool runs the pinned workflow, pulling each image by digest.
	shim := testenv.DockerShim(t)
	t.Setenv("PATH", shim+string(os.PathListSeparator)+os.Getenv("PATH"))
	stdout, stderr, code := run(t, "test", "-f", project, "--engine", "local")
	if code != 0 {
		t.Fatalf("cwlbuild test: exit %d\n%s\n%s", code, stdout, stderr)
	}
	// project.toml's three tests, then the two cases of its cwltest suite:
	// the tool named by its release's address ran from the package's
	// pinned file, and the should_fail case passed because crop failed.
	if !strings.Contains(stdout, "5 tests passed") || !regexp.MustCompile(`ok\s+otsu-water-mask\s+suites\.0\.otsu-water-mask`).MatchString(stdout) ||
		!regexp.MustCompile(`ok\s+crop-unknown-band\s+suites\.0\.crop-unknown-band`).MatchString(stdout) {
		t.Errorf("summary:\n%s", stdout)
	}
	if log, _ := os.ReadFile(filepath.Join(dir, ".cwlbuild", "tests", "suites.0.crop-unknown-band", "suites.0.crop-unknown-band.stderr.log")); !strings.Contains(string(log), "crop: unknown band red") {
		t.Errorf("the should_fail case did not fail in crop:\n%s", log)
	}
	if params, _ := os.ReadFile(filepath.Join(dir, ".cwlbuild", "tests", "suites.0.otsu-water-mask", "suites.0.otsu-water-mask.params.yaml")); !strings.Contains(string(params), filepath.Join(dir, "data", "ndwi.csv")) {
		t.Errorf("the suite's job did not reach cwltool with its input resolved against the job file:\n%s", params)
	}
	water, err := os.ReadFile(filepath.Join(dir, "runs", "water-bodies", "results", "water.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "id,x,y,water\np1,10.0,45.0,1\np2,10.1,45.1,1\np3,10.2,45.2,0\np4,10.3,45.3,0\np5,10.4,45.4,1\np6,10.5,45.5,0\n"; string(water) != want {
		t.Errorf("water.csv:\n%s\nwant:\n%s", water, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "runs", "crop green", "results", "cropped.csv")); err != nil {
		t.Errorf("the crop test (volume with a space) left no output: %v", err)
	}

	// The workflow's test expects water.csv's checksum (project.toml): one
	// wrong byte of the expectation fails the test, naming the output and
	// both values; a wrong size or contents alike.
	data, _ := os.ReadFile(project)
	wrong := strings.Replace(string(data), "sha1$bf6cb4825ded6b39342ea0480f04f8b92f39bcaf", "sha1$bf6cb4825ded6b39342ea0480f04f8b92f39bcae", 1)
	if wrong == string(data) {
		t.Fatal("the sample's test expects no checksum")
	}
	os.WriteFile(project, []byte(wrong), 0o644)
	stdout, stderr, code = run(t, "test", "-f", project, "--engine", "local", "--workflow", "0")
	if want := `output water.checksum: differs: expected "sha1$bf6cb4825ded6b39342ea0480f04f8b92f39bcae", got "sha1$bf6cb4825ded6b39342ea0480f04f8b92f39bcaf"`; code != 1 || !strings.Contains(stdout+stderr, want) {
		t.Errorf("a wrong expected checksum: exit %d, want 1 and %q\n%s\n%s", code, want, stdout, stderr)
	}
	os.WriteFile(project, []byte(strings.Replace(string(data), "size = 103\n", "size = 103\ncontents = \"id,x,y,water\\n\"\n", 1)), 0o644)
	stdout, stderr, code = run(t, "test", "-f", project, "--engine", "local", "--workflow", "0")
	if want := `output water.contents: differs: expected "id,x,y,water\n", got "id,x,y,water\np1`; code != 1 || !strings.Contains(stdout+stderr, want) {
		t.Errorf("wrong expected contents: exit %d, want 1 and %q\n%s\n%s", code, want, stdout, stderr)
	}
	os.WriteFile(project, data, 0o644)
	// The suite's expectation alike, the case chosen by --suite and --id;
	// --tags selects among all tests.
	suite := filepath.Join(dir, "tests", "suite.yaml")
	suiteData, _ := os.ReadFile(suite)
	os.WriteFile(suite, []byte(strings.Replace(string(suiteData), "size: 103", "size: 104", 1)), 0o644)
	stdout, stderr, code = run(t, "test", "-f", project, "--engine", "local", "--suite", suite, "--id", "otsu-water-mask")
	if want := "output water.size: differs: expected 104, got 103"; code != 1 || !strings.Contains(stdout+stderr, want) || !strings.Contains(stderr, "[1/1] otsu-water-mask") {
		t.Errorf("a wrong expected size in the suite: exit %d, want 1 and %q\n%s\n%s", code, want, stdout, stderr)
	}
	os.WriteFile(suite, suiteData, 0o644)
	stdout, stderr, code = run(t, "test", "-f", project, "--engine", "local", "--tags", "crop")
	if code != 0 || !strings.Contains(stdout, "1 tests passed") || !strings.Contains(stdout, "crop-unknown-band") {
		t.Errorf("--tags crop: exit %d\n%s\n%s", code, stdout, stderr)
	}

	// A failing test: exit 1, the failure in the summary, its stderr shown.
	data, _ = os.ReadFile(project)
	os.WriteFile(project, append(data, []byte("\n[[tools.norm_diff.tests]]\nname = \"missing-input\"\n[tools.norm_diff.tests.params]\nrasters = [{ class = \"File\", path = \"data/no-such.csv\" }]\n")...), 0o644)
	// Its JUnit report, read with an XML parser: the failure and the log.
	report := filepath.Join(t.TempDir(), "report.xml")
	stdout, stderr, code = run(t, "test", "-f", project, "--engine", "local", "--tool", "norm_diff", "--keep-going", "--junit", report)
	if code != 1 || !regexp.MustCompile(`FAILED\s+missing-input`).MatchString(stdout) || !strings.Contains(stderr, "last lines of") {
		t.Errorf("failing test: exit %d\n%s\n%s", code, stdout, stderr)
	}
	var junit struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Cases    []struct {
			Name    string `xml:"name,attr"`
			Failure *struct {
				Message string `xml:"message,attr"`
			} `xml:"failure"`
			SystemErr string `xml:"system-err"`
		} `xml:"testsuite>testcase"`
	}
	xmlData, err := os.ReadFile(report)
	if err == nil {
		err = xml.Unmarshal(xmlData, &junit)
	}
	if err != nil || junit.Failures != 1 || junit.Tests != len(junit.Cases) || junit.Tests < 1 {
		t.Fatalf("JUnit report: %v %+v\n%s", err, junit, xmlData)
	}
	for _, c := range junit.Cases {
		if failed := c.Failure != nil; failed != (c.Name == "missing-input") || failed && (c.Failure.Message == "" || !strings.Contains(c.SystemErr, "no-such.csv") || strings.Contains(c.SystemErr, "[1;30m")) {
			t.Errorf("JUnit testcase %q: failure %+v, system-err:\n%s", c.Name, c.Failure, c.SystemErr)
		}
	}
	os.WriteFile(project, data, 0o644)

	// No change: Skaffold builds nothing, cwlpatch changes no byte.
	_, log = skaffoldBuildLog(t, sk, dir, home)
	if strings.Contains(log, "Building") || strings.Count(log, "Found") != 3 {
		t.Errorf("no-op rebuild built something:\n%s", log)
	}
	patch()
	if again, _ := os.ReadFile(cwlFile); string(again) != string(after) {
		t.Error("cwlpatch after a no-op build changed the CWL")
	}

	// One tool changed: only it is rebuilt, and only its pin moves.
	script := filepath.Join(dir, "command-line-tools", "otsu", "otsu.sh")
	s, _ := os.ReadFile(script)
	os.WriteFile(script, append(s, []byte("# changed\n")...), 0o755)
	out2, log := skaffoldBuildLog(t, sk, dir, home)
	if n := strings.Count(log, "Not found. Building"); n != 1 || !strings.Contains(log, "otsu: Not found. Building") {
		t.Errorf("one-tool rebuild: %d built\n%s", n, log)
	}
	for i, b := range out2.Builds {
		if same := b.Tag == out.Builds[i].Tag; same == strings.HasSuffix(b.ImageName, "/otsu") {
			t.Errorf("%s: tag %s after the change, %s before", b.ImageName, b.Tag, out.Builds[i].Tag)
		}
	}
}
