package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/eoap/cwlbuild/internal/imageref"
	"github.com/eoap/cwlbuild/internal/testenv"
	"github.com/eoap/cwlbuild/skaffold"
)

// TestGitHubAction runs README's GitHub Actions workflow, as written, with
// nektos/act in its self-hosted mode, on a tag push of the sample package:
// the action of this working tree (action.yml, in place of the release the
// workflow names), the release archives scripts/dist.sh makes for that
// version (downloaded from a file:// address), a registry that requires
// the login the workflow passes, and a cosign key pair in the secrets.
// actions/checkout is act's own: a copy of the package's directory into the
// workspace, nothing fetched. The release pins every
// tool to the digest the registry serves, publishes the pinned workflow
// (the action's output), and `cwlbuild verify` accepts it.
//
// The package is a fork's, hostile as one may be: its own Taskfile.yaml
// prints the secrets, and a Dockerfile's RUN prints a forged workflow
// reference and workflow commands (an output, a mask of the version, an
// error). None of it takes effect: the package's Taskfile never runs, no
// secret is printed, the outputs are the release's own, no command runs.
func TestGitHubAction(t *testing.T) {
	act, cosign := testenv.Act(t), testenv.Cosign(t)
	const user, password, keyPassword = "eoap-bot", "gh-t0ken-1234", "cosign-pw-5678"
	reg := testenv.StartRegistry(t, user, password)
	reg.PushBase(t)
	root := testenv.ModuleRoot()

	// The action pins its scripts' Skaffold and go-task to this
	// repository's, and knows the schema cwlbuild writes.
	install, _ := os.ReadFile(filepath.Join(root, "scripts", "action-install.sh"))
	skaffoldMod, _ := os.ReadFile(filepath.Join(root, "scripts", "skaffold", "go.mod"))
	mainMod, _ := os.ReadFile(filepath.Join(root, "go.mod"))
	for _, pin := range []struct{ script, mod, module string }{
		{"SKAFFOLD_VERSION=", string(skaffoldMod), "github.com/GoogleContainerTools/skaffold/v2 "},
		{"TASK_VERSION=", string(mainMod), "github.com/go-task/task/v3 "},
		{"SKAFFOLD_SCHEMA=", skaffold.APIVersion, ""},
	} {
		v := regexp.MustCompile(pin.script + `(\S+)`).FindStringSubmatch(string(install))
		if v == nil || !strings.Contains(pin.mod, pin.module+v[1]) {
			t.Errorf("scripts/action-install.sh pins %s%v; go.mod requires another version", pin.script, v)
		}
	}

	// The release the workflow names, as `go tool task dist` makes it.
	const version = "v1.2.3"
	// (Laid out as GitHub serves releases: BASE/TAG/FILE.)
	releases := t.TempDir()
	dist := filepath.Join(releases, version)
	mk := exec.Command(filepath.Join(root, "scripts", "dist.sh"), dist)
	mk.Env = append(os.Environ(), "VERSION="+version, "PLATFORMS=linux/amd64")
	if out, err := mk.CombinedOutput(); err != nil {
		t.Fatalf("dist.sh: %v\n%s", err, out)
	}

	// The package: the sample, pushing to the test registry, in a git
	// repository holding the workflow and the public key.
	work := t.TempDir()
	pkg := filepath.Join(work, "package")
	testenv.CopyTree(t, filepath.Join(root, "testdata", "projects", "sample"), pkg, nil)
	for _, f := range []string{"project.toml", "cwl-workflow/app-water-bodies.cwl"} {
		data, _ := os.ReadFile(filepath.Join(pkg, f))
		os.WriteFile(filepath.Join(pkg, f), []byte(strings.ReplaceAll(string(data), "127.0.0.1:5000", reg.Host)), 0o644)
	}
	// The fork's Taskfile and a RUN that forges outputs and commands.
	const forged = "evil.example/attacker/app:1.0.0@sha256:eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"
	os.WriteFile(filepath.Join(pkg, "Taskfile.yaml"), []byte(`version: "3"
tasks:
  build: {cmds: ['echo "FORK-TASKFILE-RAN $COSIGN_PASSWORD $CWLBUILD_COSIGN_KEY"; cat "${DOCKER_CONFIG:-$HOME/.docker}/config.json"']}
  release: {cmds: [task: build]}
  sign-publish: {cmds: [task: build]}
`), 0o644)
	dockerfile := filepath.Join(pkg, "command-line-tools", "crop", "Dockerfile")
	df, _ := os.ReadFile(dockerfile)
	os.WriteFile(dockerfile, append(df, []byte("RUN echo "+forged+" && echo '::set-output name=workflow::"+forged+"' && echo '::add-mask::0.1.0' && echo '::error title=cwlbuild::forged by a RUN'\n")...), 0o644)
	block := testenv.READMEBlockStarting(t, "# .github/workflows/package.yml")
	workflow := subst(t, block.Text, "registry: ghcr.io", "registry: "+reg.Host)
	os.MkdirAll(filepath.Join(pkg, ".github", "workflows"), 0o755)
	os.WriteFile(filepath.Join(pkg, ".github", "workflows", "package.yml"), []byte(workflow), 0o644)
	keys := t.TempDir()
	gen := exec.Command(cosign, "generate-key-pair")
	gen.Dir, gen.Env = keys, append(os.Environ(), "COSIGN_PASSWORD="+keyPassword)
	if out, err := gen.CombinedOutput(); err != nil {
		t.Fatalf("cosign generate-key-pair: %v\n%s", err, out)
	}
	pub, _ := os.ReadFile(filepath.Join(keys, "cosign.pub"))
	key, _ := os.ReadFile(filepath.Join(keys, "cosign.key"))
	os.WriteFile(filepath.Join(pkg, "cosign.pub"), pub, 0o644)
	home := filepath.Join(work, "home")
	os.MkdirAll(home, 0o700)
	gitEnv := append(os.Environ(), "HOME="+home, "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.org", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.org")
	for _, args := range [][]string{{"init", "-q", "-b", "main"}, {"add", "-A"}, {"commit", "-qm", "package"}, {"tag", "v0.1.0"}} {
		c := exec.Command("git", args...)
		c.Dir, c.Env = pkg, gitEnv
		if out, err := c.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	event := filepath.Join(work, "event.json")
	os.WriteFile(event, []byte(`{"ref": "refs/tags/v0.1.0", "ref_name": "v0.1.0"}`), 0o644)

	// Skaffold and go-task as a self-hosted runner has them, on PATH.
	tools := t.TempDir()
	taskBin, err := exec.Command("go", "tool", "-n", "task").Output()
	if err != nil {
		testenv.Missing(t, "go-task (go tool task)", err)
	}
	os.Symlink(strings.TrimSpace(string(taskBin)), filepath.Join(tools, "task"))
	os.Symlink(testenv.Skaffold(t), filepath.Join(tools, "skaffold"))
	cmd := exec.Command(act, "push", "--workflows", ".github/workflows/package.yml", "--eventpath", event,
		"--platform", "ubuntu-latest=-self-hosted", "--actor", user,
		"--local-repository", "eoap/cwlbuild@"+version+"="+root,
		"--env", "CWLBUILD_RELEASES=file://"+releases,
		"--secret", "GITHUB_TOKEN", "--secret", "COSIGN_KEY", "--secret", "COSIGN_PASSWORD")
	cmd.Dir = pkg
	cmd.Env = append(gitEnv, "PATH="+tools+":"+testenv.DockerShim(t)+":"+os.Getenv("PATH"),
		"GITHUB_TOKEN="+password, "COSIGN_KEY="+string(key), "COSIGN_PASSWORD="+keyPassword,
		"SKAFFOLD_UPDATE_CHECK=false", "SKAFFOLD_INTERACTIVE=false")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("act: %v\n%s", err, out)
	}
	log := string(out)
	if strings.Contains(log, password) || strings.Contains(log, keyPassword) || strings.Contains(log, "PRIVATE KEY") {
		t.Error("the run's log shows the registry password, the key's password or the signing key")
	}
	if strings.Contains(log, "FORK-TASKFILE-RAN") {
		t.Error("the action ran the package's own Taskfile")
	}
	if strings.Contains(log, "published "+forged) {
		t.Error("the workflow output is the reference a RUN printed")
	}
	// act logs a command it obeys with its own mark (❗ for an error);
	// stopped, it shows the line only.
	if strings.Contains(log, "\u2757  ::error title=cwlbuild::forged") {
		t.Error("a RUN's ::error line ran as a workflow command")
	}
	published := regexp.MustCompile(`published (` + regexp.QuoteMeta(reg.Host) + `/eoap-sample/app-water-bodies:0\.1\.0@sha256:[0-9a-f]{64})`).FindStringSubmatch(log)
	if published == nil {
		t.Fatalf("the workflow printed no published reference:\n%s", log)
	}
	// The pins (the action's output; act ran in a copy of the package) are
	// the registry's digests, one per tool.
	for _, tool := range []string{"crop", "norm_diff", "otsu"} {
		m := regexp.MustCompile(`(?m)^\S*\s*\|?\s*(` + regexp.QuoteMeta(reg.Host) + `/eoap-sample/` + tool + `:0\.1\.0[^@\s]*@sha256:[0-9a-f]{64})$`).FindStringSubmatch(log)
		if m == nil {
			t.Fatalf("the action's pinned output does not list %s:\n%s", tool, log)
		}
		ref, _ := imageref.Split(m[1])
		if got := reg.Digest(t, ref.Repo+":"+ref.Tag); got != ref.Digest {
			t.Errorf("%s: pinned %s, the registry serves %s", tool, ref.Digest, got)
		}
	}
	verify := exec.Command(testenv.BuildBinary(t, "./cmd/cwlbuild"), "verify", "--key", filepath.Join(pkg, "cosign.pub"), published[1])
	verify.Env = append(os.Environ(), "DOCKER_CONFIG="+filepath.Join(home, ".docker"))
	if out, err := verify.CombinedOutput(); err != nil {
		t.Errorf("cwlbuild verify %s: %v\n%s", published[1], err, out)
	}

	// The fork's tests: a name that forges a workflow command and a param
	// naming a file of the runner outside the package. The action's test
	// run refuses it, naming the key, prints no command, mounts nothing.
	secret := filepath.Join(work, "runner-secret.json")
	os.WriteFile(secret, []byte(`{"auths": "HOST-SECRET-5678"}`), 0o600)
	toml, _ := os.ReadFile(filepath.Join(pkg, "project.toml"))
	toml = append(toml, []byte("\n[[tools.crop.tests]]\nname = \"t1\\n::error title=cwlbuild::forged by a test name\"\n[tools.crop.tests.params]\ncsv = { class = \"File\", path = \"../runner-secret.json\" }\n")...)
	os.WriteFile(filepath.Join(pkg, "project.toml"), toml, 0o644)
	testWorkflow := "name: test\non: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - uses: eoap/cwlbuild@" + version + "\n        with: {command: test}\n"
	os.WriteFile(filepath.Join(pkg, ".github", "workflows", "test.yml"), []byte(testWorkflow), 0o644)
	cmd = exec.Command(act, "push", "--workflows", ".github/workflows/test.yml", "--eventpath", event,
		"--platform", "ubuntu-latest=-self-hosted", "--actor", user,
		"--local-repository", "eoap/cwlbuild@"+version+"="+root,
		"--env", "CWLBUILD_RELEASES=file://"+releases)
	cmd.Dir, cmd.Env = pkg, append(gitEnv, "PATH="+tools+":"+testenv.DockerShim(t)+":"+os.Getenv("PATH"), "SKAFFOLD_UPDATE_CHECK=false")
	out, err = cmd.CombinedOutput()
	log = string(out)
	if err == nil {
		t.Errorf("act ran the fork's tests with a param outside the package:\n%s", log)
	}
	if !strings.Contains(log, `tools.crop.tests.1.params.csv.path "../runner-secret.json": outside the project directory`) {
		t.Errorf("the test run does not name the param outside the package:\n%s", log)
	}
	if strings.Contains(log, "HOST-SECRET-5678") {
		t.Error("the runner's file reached the log")
	}
	if strings.Contains(log, "\u2757  ::error title=cwlbuild::forged") {
		t.Error("a test name ran as a workflow command")
	}
}
