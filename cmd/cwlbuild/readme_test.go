package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/eoap/cwlbuild/internal/imageref"
	"github.com/eoap/cwlbuild/internal/testenv"
	"github.com/eoap/cwlbuild/skaffold/buildjson"
)

// readmeRunner is what runs a README block: a test of this package, or a
// script CI runs; for the blocks TestREADMECommands runs, the check of what
// the block does.
type readmeRunner struct {
	first  string // the start of the block's first line
	runner string
	check  func(s *readmeSandbox, t *testing.T, text string)
}

// readmeRunners says, for every block of README.md that shows commands
// (each sh block, and each CI recipe naming cwlbuild or cwlpatch), what runs
// it.
var readmeRunners = []readmeRunner{
	{"go tool task demo", ".ci/run", nil},
	{"VERSION=v1.2.3 OS=linux ARCH=amd64", "TestDistReproducible", nil},
	{"go install github.com/eoap/cwlbuild/cmd/cwlbuild@latest", readmeCommands, (*readmeSandbox).install},
	{"task release TAGS=latest", readmeCommands, (*readmeSandbox).release},
	{"cwlbuild generate ", readmeCommands, (*readmeSandbox).skaffoldDirectly},
	{"IMAGE=127.0.0.1:5000/eoap-sample/crop:dev", readmeCommands, (*readmeSandbox).plugin},
	{"cwlbuild tar -o out --tag 1.2.0", readmeCommands, (*readmeSandbox).tarballs},
	{`echo "$TOKEN" | cwlbuild auth`, readmeCommands, (*readmeSandbox).auth},
	{"cwlpatch --dry-run build.json", readmeCommands, (*readmeSandbox).cwlpatch},
	{"kubectl create namespace eoap-sample", "scripts/demo-cluster.sh", nil},
	{"kubectl -n eoap-sample create serviceaccount calrissian-sa", "scripts/demo-cluster.sh", nil},
	{"build-images:", "TestGitLabRecipe", nil},
	{"# .github/workflows/package.yml", "TestGitHubAction", nil},
	{"steps:", readmeCommands, (*readmeSandbox).buildkite},
	{"build:", "TestSkaffoldAfterBuildHook", nil},
}

const readmeCommands = "TestREADMECommands"

// commandBlock reports whether a README block shows commands a user runs.
func commandBlock(b testenv.READMEBlock) bool {
	return b.Lang == "sh" || b.Lang == "yaml" && regexp.MustCompile(`\bcwl(build|patch)\b`).MatchString(b.Text)
}

// runnerOf is the runner of a README block; its runner is "" if none.
func runnerOf(b testenv.READMEBlock) readmeRunner {
	for _, r := range readmeRunners {
		if strings.HasPrefix(b.First(), r.first) {
			return r
		}
	}
	return readmeRunner{}
}

// TestREADMEBlocksHaveRunners: every command block of the documentation
// (README.md and the docs/ pages it links to) is run by something (a new
// block with no runner fails here), every runner names a block that exists,
// and each runner reads the block from its page rather than a copy of it: a
// test names the block in its source; a script reads the page. Every page
// of docs/ is linked from README.md.
func TestREADMEBlocksHaveRunners(t *testing.T) {
	blocks := testenv.READMEBlocks(t)
	used := map[string]bool{}
	for _, b := range blocks {
		if !commandBlock(b) {
			continue
		}
		r := runnerOf(b).runner
		if r == "" {
			t.Errorf("%s:%d: no test or CI script runs the block starting %q", b.File, b.Line, b.First())
		}
		used[r] = true
	}
	var tests string
	files, _ := filepath.Glob("*_test.go")
	for _, f := range files {
		data, _ := os.ReadFile(f)
		tests += string(data)
	}
	for _, r := range readmeRunners {
		found, file := false, ""
		for _, b := range blocks {
			if commandBlock(b) && strings.HasPrefix(b.First(), r.first) {
				found, file = true, b.File
			}
		}
		if !found {
			t.Errorf("%s runs a README block starting %q, and README.md has none", r.runner, r.first)
		}
		if (r.check != nil) != (r.runner == readmeCommands) {
			t.Errorf("block %q: runner %s, check %v: TestREADMECommands needs a check, no other runner has one", r.first, r.runner, r.check != nil)
		}
		if strings.HasPrefix(r.runner, "Test") {
			if !strings.Contains(tests, "func "+r.runner+"(t *testing.T)") {
				t.Errorf("runner %s: no such test in this package", r.runner)
			}
			continue
		}
		data, err := os.ReadFile(filepath.Join(testenv.ModuleRoot(), r.runner))
		if err != nil || !strings.Contains(string(data), file) {
			t.Errorf("runner %s does not read %s, which holds its block: %v", r.runner, file, err)
		}
	}
	// Every page of docs/ is linked from README.md (so its blocks are
	// found, and a reader finds it).
	linked := map[string]bool{}
	for _, p := range testenv.DocPages(t) {
		linked[p] = true
	}
	pages, _ := filepath.Glob(filepath.Join(testenv.ModuleRoot(), "docs", "*.md"))
	for _, p := range pages {
		if rel := "docs/" + filepath.Base(p); !linked[rel] {
			t.Errorf("%s: README.md does not link to it", rel)
		}
	}
	if len(pages) == 0 {
		t.Error("no page in docs/")
	}
}

// TestREADMESynopses: each synopsis README shows (a text block line
// starting "cwlbuild COMMAND") is the command's own usage line.
func TestREADMESynopses(t *testing.T) {
	n := 0
	for _, b := range testenv.READMEBlocks(t) {
		if b.Lang != "text" {
			continue
		}
		for _, line := range strings.Split(strings.TrimSpace(b.Text), "\n") {
			fields := strings.Fields(line)
			if len(fields) < 2 || fields[0] != "cwlbuild" {
				continue
			}
			n++
			cmd := newApp().Command(fields[1])
			if cmd == nil {
				t.Errorf("%s:%d: no command %q", b.File, b.Line, fields[1])
			} else if want, _, _ := strings.Cut(cmd.UsageText, "\n"); line != want {
				t.Errorf("%s:%d: synopsis\n  %s\nthe command's usage line is\n  %s", b.File, b.Line, line, want)
			}
		}
	}
	if n < 2 {
		t.Errorf("%d cwlbuild synopses in README.md", n)
	}
}

// readmeSandbox is a scientist's machine for README's commands: a copy of
// the sample as my-package, outside this repository, its registry
// 127.0.0.1:5000 replaced by a test registry; the programs README's
// commands call on PATH, cwlbuild and cwlpatch once its `go install` line
// put them there.
type readmeSandbox struct {
	work, pkg, gobin string
	reg              *testenv.Registry
	env              []string
}

// subst replaces each old string of pairs by its new one in text; each must
// occur, so the test cannot drift from README without failing.
func subst(t *testing.T, text string, pairs ...string) string {
	t.Helper()
	for i := 0; i < len(pairs); i += 2 {
		if !strings.Contains(text, pairs[i]) {
			t.Fatalf("README's block no longer says %q:\n%s", pairs[i], text)
		}
		text = strings.ReplaceAll(text, pairs[i], pairs[i+1])
	}
	return text
}

// kanikoLine reports whether README runs a line inside the Kaniko image.
func kanikoLine(line string) bool {
	return strings.Contains(line, "# inside the Kaniko")
}

// run runs a README block's lines in dir, in order: lines marked "inside
// the Kaniko" image in that image (the package at /workspace, the installed
// programs in /kaniko, on its PATH), the others with bash on this machine.
// It returns the combined output.
func (s *readmeSandbox) run(t *testing.T, dir, text string, kanikoEnv ...string) string {
	t.Helper()
	var out, host strings.Builder
	flush := func() {
		if host.Len() == 0 {
			return
		}
		cmd := exec.Command("bash", "-euo", "pipefail", "-c", host.String())
		cmd.Dir, cmd.Env = dir, s.env
		o, err := cmd.CombinedOutput()
		out.Write(o)
		if err != nil {
			t.Fatalf("in %s:\n%s\n%v\n%s", dir, host.String(), err, o)
		}
		host.Reset()
	}
	for _, line := range strings.Split(text, "\n") {
		if !kanikoLine(line) {
			host.WriteString(line + "\n")
			continue
		}
		flush()
		out.WriteString(kanikoScript(t, s.pkg, s.gobin, []string{"cwlbuild", "cwlpatch", "cwlbuild-sbom"}, kanikoEnv, line))
	}
	flush()
	return out.String()
}

// TestREADMECommands runs README's command blocks as a user would, in
// README's order, on a copy of the sample outside this repository: install
// both programs with `go install …@latest` (from a module proxy on disk
// holding this commit), `cwlbuild init` and `task build`; release and pull
// the workflow with oras and run it with cwltool; Skaffold directly; the
// plugin with buildah and, inside the Kaniko image, with Kaniko; tarballs
// built in the Kaniko image, pinned, then pushed with skopeo; registry
// logins; cwlpatch; the Buildkite step. After each block it checks what
// README says the block does.
func TestREADMECommands(t *testing.T) {
	testenv.RequireImage(t, testenv.BaseImage)
	testenv.RequireImage(t, testenv.KanikoImage)
	for _, prog := range []string{"buildah", "skopeo", "cwltool", "git"} {
		testenv.LookPath(t, prog)
	}
	s := newREADMESandbox(t)
	ran, want := 0, 0
	for _, r := range readmeRunners {
		if r.runner == readmeCommands {
			want++
		}
	}
	for _, b := range testenv.READMEBlocks(t) {
		r := runnerOf(b)
		if !commandBlock(b) || r.runner != readmeCommands {
			continue
		}
		if r.check == nil {
			t.Fatalf("%s:%d: TestREADMECommands has no check for the block starting %q", b.File, b.Line, b.First())
		}
		t.Logf("%s:%d: %s", b.File, b.Line, b.First())
		r.check(s, t, b.Text)
		ran++
	}
	if ran != want {
		t.Errorf("ran %d README blocks, want the %d TestREADMECommands runs", ran, want)
	}
}

func newREADMESandbox(t *testing.T) *readmeSandbox {
	t.Helper()
	proxy := moduleProxy(t)
	reg := testenv.StartRegistry(t)
	reg.PushBase(t)
	work := t.TempDir()
	s := &readmeSandbox{work: work, pkg: filepath.Join(work, "my-package"), gobin: filepath.Join(work, "go", "bin"), reg: reg}
	testenv.CopyTree(t, filepath.Join(testenv.ModuleRoot(), "testdata", "projects", "sample"), s.pkg, nil)
	for _, f := range []string{"project.toml", "cwl-workflow/app-water-bodies.cwl"} {
		data, _ := os.ReadFile(filepath.Join(s.pkg, f))
		os.WriteFile(filepath.Join(s.pkg, f), []byte(strings.ReplaceAll(string(data), "127.0.0.1:5000", reg.Host)), 0o644)
	}
	// Skaffold, go-task and oras as a user installs them: plain programs
	// on PATH; `docker` is podman (cwltool's engine).
	tools := t.TempDir()
	for _, name := range []string{"task", "oras"} {
		path, err := exec.Command("go", "tool", "-n", name).Output()
		if err != nil {
			testenv.Missing(t, name+" (go tool "+name+")", err)
		}
		os.Symlink(strings.TrimSpace(string(path)), filepath.Join(tools, name))
	}
	os.Symlink(testenv.Skaffold(t), filepath.Join(tools, "skaffold"))
	// The test registry listens on a loopback port registries.conf does
	// not list, so it is plain HTTP: to skopeo as registries.conf would say
	// (this skopeo reads no CONTAINERS_REGISTRIES_CONF), to cwltool's
	// podman through the docker shim.
	conf := filepath.Join(work, "registries.conf")
	os.WriteFile(conf, []byte("[[registry]]\nlocation = \""+reg.Host+"\"\ninsecure = true\n"), 0o644)
	skopeo := "#!/bin/sh\nexec " + testenv.LookPath(t, "skopeo") + " --registries-conf " + conf + " \"$@\"\n"
	os.WriteFile(filepath.Join(tools, "skopeo"), []byte(skopeo), 0o755)
	gocache, err := exec.Command("go", "env", "GOCACHE").Output()
	if err != nil {
		t.Fatal(err)
	}
	home := filepath.Join(work, "home")
	os.MkdirAll(home, 0o700)
	s.env = append(os.Environ(), proxy.env(s.gobin)...)
	goDir := filepath.Dir(testenv.LookPath(t, "go"))
	s.env = append(s.env, "PATH="+strings.Join([]string{s.gobin, tools, testenv.DockerShim(t), goDir, "/usr/local/bin", "/usr/bin", "/bin"}, ":"),
		"HOME="+home, "GOCACHE="+strings.TrimSpace(string(gocache)), "SKAFFOLD_UPDATE_CHECK=false", "SKAFFOLD_INTERACTIVE=false",
		// The auth block's inputs: a token, and GitLab's variables.
		"TOKEN=ghp-t0ken", "CI_REGISTRY=registry.gitlab.example", "CI_REGISTRY_USER=gitlab-ci-token", "CI_REGISTRY_PASSWORD=glpat-s3cr3t")
	return s
}

// pins returns each tool's dockerPull in the package's workflow, checking
// it is pinned by digest to what the registry serves under its tag.
func (s *readmeSandbox) pins(t *testing.T, repoPrefix, tag string) map[string]imageref.Reference {
	t.Helper()
	refs := s.pinned(t, repoPrefix, tag)
	for tool, ref := range refs {
		if got := s.reg.Digest(t, ref.Repo+":"+ref.Tag); got != ref.Digest {
			t.Errorf("%s: pinned %s, the registry serves %s", tool, ref.Digest, got)
		}
	}
	return refs
}

// pinned returns each tool's dockerPull in the package's workflow, checking
// it is pinned by digest, with tag, to an image under repoPrefix.
func (s *readmeSandbox) pinned(t *testing.T, repoPrefix, tag string) map[string]imageref.Reference {
	t.Helper()
	cwl, _ := os.ReadFile(filepath.Join(s.pkg, "cwl-workflow", "app-water-bodies.cwl"))
	out := map[string]imageref.Reference{}
	for _, tool := range []string{"crop", "norm_diff", "otsu"} {
		m := regexp.MustCompile(`dockerPull: (` + regexp.QuoteMeta(repoPrefix+tool) + `\S*)`).FindSubmatch(cwl)
		if m == nil {
			t.Fatalf("%s is not pinned to %s%s:\n%s", tool, repoPrefix, tool, cwl)
		}
		ref, err := imageref.Split(string(m[1]))
		if err != nil || ref.Digest == "" || ref.Tag != tag {
			t.Fatalf("%s: pinned %q, want tag %s and a digest", tool, m[1], tag)
		}
		out[tool] = ref
	}
	return out
}

// install: both programs installed, `cwlbuild init`'s Taskfile, `task
// build` pins every tool to the digest the registry serves with [project]
// version as tag; no temporary file is left, and the generated config
// names no path of this machine, so `task check` (generate --check among
// its steps) passes.
func (s *readmeSandbox) install(t *testing.T, text string) {
	s.run(t, s.work, text)
	for _, prog := range []string{"cwlbuild", "cwlpatch"} {
		out, err := exec.Command(filepath.Join(s.gobin, prog), "--version").CombinedOutput()
		if err != nil || !strings.HasPrefix(string(out), prog+" version "+proxyVersion) {
			t.Errorf("%s --version: %v %q", prog, err, out)
		}
	}
	if _, err := os.Stat(filepath.Join(s.pkg, "Taskfile.yaml")); err != nil {
		t.Fatal(err)
	}
	s.pins(t, s.reg.Host+"/eoap-sample/", "0.1.0")
	if _, err := os.Stat(filepath.Join(s.pkg, "build.json.new")); err == nil {
		t.Error("build.json.new was left behind")
	}
	config, _ := os.ReadFile(filepath.Join(s.pkg, "skaffold-auto.yaml"))
	if strings.Contains(string(config), s.work) || strings.Contains(string(config), testenv.ModuleRoot()) {
		t.Errorf("skaffold-auto.yaml names a path of this machine:\n%s", config)
	}
	s.run(t, s.pkg, "task check")
}

// release: the workflow is published under [project] version and the
// extra tag; oras pulls exactly the pinned file, and cwltool runs it from
// the pinned images.
func (s *readmeSandbox) release(t *testing.T, text string) {
	out := s.run(t, s.pkg, subst(t, text, "127.0.0.1:5000", s.reg.Host))
	for _, tag := range []string{"0.1.0", "latest"} {
		if !strings.Contains(out, s.reg.Host+"/eoap-sample/app-water-bodies:"+tag+"@sha256:") {
			t.Errorf("no published reference for tag %s:\n%s", tag, out)
		}
	}
	pulled, _ := os.ReadFile(filepath.Join(s.pkg, "app-water-bodies.cwl"))
	pinned, _ := os.ReadFile(filepath.Join(s.pkg, "cwl-workflow", "app-water-bodies.cwl"))
	if len(pulled) == 0 || string(pulled) != string(pinned) {
		t.Errorf("oras pulled %d bytes, not the pinned workflow", len(pulled))
	}
	if !strings.Contains(out, "Final process status is success") {
		t.Errorf("cwltool did not run the pulled workflow:\n%s", out)
	}
	if csv, err := os.ReadFile(filepath.Join(s.pkg, "water.csv")); err != nil || !strings.HasPrefix(string(csv), "id,x,y,water\n") {
		t.Errorf("the workflow's water.csv: %v %q", err, csv)
	}
}

// skaffoldDirectly: Skaffold builds the generated config without the
// Taskfile, and writes build.json with every tool.
func (s *readmeSandbox) skaffoldDirectly(t *testing.T, text string) {
	os.Remove(filepath.Join(s.pkg, "build.json"))
	s.run(t, s.pkg, text)
	out, err := buildjson.ReadFile(filepath.Join(s.pkg, "build.json"), nil)
	if err != nil || len(out.Builds) != 3 {
		t.Fatalf("build.json: %v %+v", err, out)
	}
}

// plugin: the buildah line pushes the image IMAGE names; the Kaniko line,
// inside the Kaniko image, builds crop with the plan's image and pushes it.
func (s *readmeSandbox) plugin(t *testing.T, text string) {
	out := s.run(t, s.pkg, subst(t, text, "127.0.0.1:5000", s.reg.Host))
	if d := s.reg.Digest(t, s.reg.Host+"/eoap-sample/crop:dev"); !strings.HasPrefix(d, "sha256:") {
		t.Errorf("the buildah line pushed nothing: %q", d)
	}
	if !strings.Contains(out, s.reg.Host+"/eoap-sample/crop") {
		t.Errorf("the Kaniko line did not build crop:\n%s", out)
	}
}

// tarballs: the tarballs built in the Kaniko image, pinned before any push,
// then pushed with skopeo: every pin is the digest the registry serves.
func (s *readmeSandbox) tarballs(t *testing.T, text string) {
	s.run(t, s.pkg, subst(t, text, "ghcr.io/eoap/", s.reg.Host+"/eoap-sample/"))
	s.pins(t, s.reg.Host+"/eoap-sample/", "1.2.0")
	// Each tarball's SBOM beside it, catalogued from the tarball.
	for _, tool := range []string{"crop", "norm_diff", "otsu"} {
		data, err := os.ReadFile(filepath.Join(s.pkg, "out", tool+".spdx.json"))
		if err != nil {
			t.Fatalf("no SBOM beside %s.tar: %v", tool, err)
		}
		// It names busybox, and the image (not the tarball's path).
		if names := spdxPackages(t, data); !strings.Contains(names, "busybox") || !strings.Contains(names, "/"+tool+" ") || strings.Contains(names, ".tar") {
			t.Errorf("%s.spdx.json: its packages (%s) do not name busybox and the image alone", tool, names)
		}
	}
}

// auth: each line merges its registry into the Docker config (the token as
// an identity token), mode 0600; the secret line writes a Secret; no
// password reaches the output.
func (s *readmeSandbox) auth(t *testing.T, text string) {
	os.WriteFile(filepath.Join(s.pkg, "token"), []byte("k8s-t0ken\n"), 0o600)
	os.WriteFile(filepath.Join(s.pkg, "oidc-token"), []byte("oidc-t0ken\n"), 0o600)
	out := s.run(t, s.pkg, text)
	for _, secret := range []string{"ghp-t0ken", "glpat-s3cr3t", "oidc-t0ken", "k8s-t0ken"} {
		if strings.Contains(out, secret) {
			t.Errorf("the output shows %s:\n%s", secret, out)
		}
	}
	file := filepath.Join(s.work, "home", ".docker", "config.json")
	info, err := os.Stat(file)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("config.json: %v %v", err, info)
	}
	var config struct {
		Auths map[string]struct{ Auth, IdentityToken string } `json:"auths"`
	}
	data, _ := os.ReadFile(file)
	if err := json.Unmarshal(data, &config); err != nil {
		t.Fatal(err)
	}
	if config.Auths["ghcr.io"].Auth == "" || config.Auths["registry.gitlab.example"].Auth == "" || config.Auths["registry.example"].IdentityToken != "oidc-t0ken" {
		t.Errorf("config.json: %s", data)
	}
	var secret struct {
		Kind     string
		Metadata struct{ Name string }
		Type     string
	}
	data, _ = os.ReadFile(filepath.Join(s.pkg, "secret.yaml"))
	if err := yaml.Unmarshal(data, &secret); err != nil || secret.Kind != "Secret" || secret.Metadata.Name != "kaniko-secret" || secret.Type != "kubernetes.io/dockerconfigjson" {
		t.Errorf("secret.yaml: %v\n%s", err, data)
	}
}

// cwlpatch: --dry-run changes nothing; the run pins build.json's images
// (from the Skaffold block; the registry's tag has moved since, to the
// plugin block's Kaniko build of crop); --check then passes.
func (s *readmeSandbox) cwlpatch(t *testing.T, text string) {
	lines := strings.Split(strings.TrimSpace(text), "\n")
	before, _ := os.ReadFile(filepath.Join(s.pkg, "cwl-workflow", "app-water-bodies.cwl"))
	s.run(t, s.pkg, lines[0])
	if after, _ := os.ReadFile(filepath.Join(s.pkg, "cwl-workflow", "app-water-bodies.cwl")); string(after) != string(before) {
		t.Error("--dry-run changed the workflow")
	}
	s.run(t, s.pkg, strings.Join(lines[1:], "\n"))
	pins := s.pinned(t, s.reg.Host+"/eoap-sample/", "0.1.0")
	builds, err := buildjson.ReadFile(filepath.Join(s.pkg, "build.json"), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range builds.Builds {
		tool := filepath.Base(b.ImageName)
		if ref := pins[tool]; ref.Repo+":"+ref.Tag+"@"+ref.Digest != b.Tag {
			t.Errorf("%s: pinned %+v, build.json says %s", tool, ref, b.Tag)
		}
	}
}

// buildkite: the step's command, inside the Kaniko image with Buildkite's
// commit variable, pushes crop tagged with the commit.
func (s *readmeSandbox) buildkite(t *testing.T, text string) {
	var pipeline struct {
		Steps []struct{ Command string } `yaml:"steps"`
	}
	if err := yaml.Unmarshal([]byte(text), &pipeline); err != nil || len(pipeline.Steps) != 1 {
		t.Fatalf("README's Buildkite pipeline: %v\n%s", err, text)
	}
	command := subst(t, pipeline.Steps[0].Command, "ghcr.io/eoap/", s.reg.Host+"/eoap-sample/")
	s.run(t, s.pkg, command+"   # inside the Kaniko image", "BUILDKITE_COMMIT=0a1b2c3")
	if d := s.reg.Digest(t, s.reg.Host+"/eoap-sample/crop:0a1b2c3"); !strings.HasPrefix(d, "sha256:") {
		t.Errorf("the Buildkite step pushed nothing: %q", d)
	}
}
