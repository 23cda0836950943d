package skaffold

import (
	"slices"
	"testing"

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
