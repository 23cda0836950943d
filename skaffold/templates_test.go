package skaffold

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/GoogleContainerTools/skaffold/v2/pkg/skaffold/schema/latest"

	"github.com/eoap/cwlbuild/builder"
)

// TestPackageValuesAreTemplateLiterals: a description that would run a
// command and read a secret reaches every field Skaffold evaluates (docker's
// cliFlags, Kaniko's labels) escaped, whatever the runtime; the renderer's
// own templates (the commit tag, the revision label) stay live.
func TestPackageValuesAreTemplateLiterals(t *testing.T) {
	const hostile = `{{cmd "sh" "-c" "id"}} {{.CI_REGISTRY_PASSWORD}}`
	const literal = `{{"{{"}}cmd "sh" "-c" "id"}} {{"{{"}}.CI_REGISTRY_PASSWORD}}`
	dir := t.TempDir()
	writeDockerfile(t, dir, "a", "FROM scratch\n")
	plan := loadTOML(t, dir, "[project]\nname = \"p\"\nversion = \"1.0\"\ndescription = '"+hostile+"'\n[build]\nengine = \"local\"\n"+
		"[build.local]\nruntime = \"docker\"\nregistry = \"localhost:5000\"\n[tools.a]\ncontext = \"a\"\npath = \"x.cwl#a\"\n[tools.a.buildArgs]\nB = '"+hostile+"'\n")
	cfg, _ := Render(plan, Options{})
	d := cfg.Build.Artifacts[0].DockerArtifact
	if !slices.Contains(d.CliFlags, builder.LabelDescription+"="+literal) {
		t.Errorf("docker cliFlags %q", d.CliFlags)
	}
	if *d.BuildArgs["B"] != literal {
		t.Errorf("docker build arg %q", *d.BuildArgs["B"])
	}
	k := cfg.Profiles[0].Build.Artifacts[0].KanikoArtifact
	if *k.Label[builder.LabelDescription] != literal || *k.BuildArgs["B"] != literal {
		t.Errorf("kaniko label %q, build arg %q", *k.Label[builder.LabelDescription], *k.BuildArgs["B"])
	}
	if *k.Label[builder.LabelRevision] != RevisionTemplate {
		t.Errorf("the revision label %q is not the renderer's template", *k.Label[builder.LabelRevision])
	}
}

// TestPluginCommandArgv: Skaffold runs a custom artifact's buildCommand
// through `sh -c` in the tool's context, so every word that comes from
// the package or its path reaches the plugin as the one argument it was,
// however it is spelt: the plugin's path and the project file's directory
// here, whose names hold quotes, a command substitution, a glob and a
// newline, under the local runtimes and the cluster's buildkit builder with
// its registry cache.
func TestPluginCommandArgv(t *testing.T) {
	for i, name := range []string{"plain", `it's "$(touch pwned)" *`, "new\nline `id` $HOME\\"} {
		top := filepath.Join(t.TempDir(), name)
		os.MkdirAll(top, 0o755)
		sh := filepath.Join(top, "argv")
		os.WriteFile(sh, []byte("#!/bin/sh\nfor a; do printf '%s\\0' \"$a\"; done\n"), 0o755)
		dir := filepath.Join(top, "pkg")
		writeDockerfile(t, dir, "a", "FROM scratch\n")
		plan := loadTOML(t, dir, "[project]\nname = \"p\"\n[build]\nengine = \"cluster\"\n[build.local]\nruntime = \"buildah\"\nregistry = \"localhost:5000\"\n"+
			"[build.cluster]\nbuilder = \"buildkit\"\nbuildkitCache = \"registry\"\nnamespace = \"ns\"\nregistry = \"ghcr.io/eoap\"\n[tools.a]\ncontext = \"a\"\npath = \"x.cwl#a\"\n")
		// The project file the plugin is told to read, in the directory
		// of the hostile name.
		proj := filepath.Join(top, "project.toml")
		cfg, err := Render(plan, Options{PluginCommand: sh, ProjectFile: proj})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			build latest.BuildConfig
			want  []string
		}{
			{cfg.Build, []string{"plugin", "--backend", "buildkit", "--buildkit-addr", "kube-pod://buildkitd-0?namespace=ns", "--cache-repo", "ghcr.io/eoap/cache", "--tool", "a", "-f", "../../project.toml"}},
			{profileBuild(t, cfg, "local"), []string{"plugin", "--backend", "buildah", "--tool", "a", "-f", "../../project.toml"}},
		} {
			// The program is found by the path of the hostile name only
			// when that path reaches the shell as one word.
			cmd := exec.Command("sh", "-c", c.build.Artifacts[0].CustomArtifact.BuildCommand)
			cmd.Dir = filepath.Join(dir, "a")
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("case %d: sh -c: %v", i, err)
			}
			got := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
			if !slices.Equal(got, c.want) {
				t.Errorf("case %d: argv %q, want %q", i, got, c.want)
			}
		}
		if _, err := os.Stat(filepath.Join(dir, "a", "pwned")); err == nil {
			t.Errorf("case %d: the command substitution ran", i)
		}
	}
}

func profileBuild(t *testing.T, cfg *latest.SkaffoldConfig, name string) latest.BuildConfig {
	t.Helper()
	for _, p := range cfg.Profiles {
		if p.Name == name {
			return p.Build
		}
	}
	t.Fatalf("no profile %s", name)
	return latest.BuildConfig{}
}
