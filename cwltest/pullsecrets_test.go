package cwltest

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eoap/cwlbuild/builder"
	"github.com/eoap/cwlbuild/internal/agentapi"
	"github.com/eoap/cwlbuild/internal/testenv"
)

// TestPullSecrets: a warning names the test, the account, the registry and
// the pin when the account's pull secrets hold no login for a registry that
// refuses anonymous pulls; none when they do, when the registry serves
// anyone, or when the cluster cannot be asked or a secret not read.
func TestPullSecrets(t *testing.T) {
	dir := testenv.CopyDir(t, filepath.Join("..", "testdata", "projects", "sample"))
	cwl := filepath.Join(dir, "cwl-workflow", "app-water-bodies.cwl")
	data, _ := os.ReadFile(cwl)
	digest := "@sha256:" + strings.Repeat("a", 64)
	for _, tool := range []string{"crop", "norm_diff", "otsu"} {
		data = []byte(strings.ReplaceAll(string(data), "127.0.0.1:5000/eoap-sample/"+tool+":latest", "10.244.0.1:5002/eoap-sample/"+tool+":0.1.0"+digest))
	}
	os.WriteFile(cwl, data, 0o644)
	toml, _ := os.ReadFile(filepath.Join(dir, "project.toml"))
	toml = []byte(strings.Replace(string(toml), `engine = "local"`, `engine = "cluster"`, 1) + "\n[build.calrissian]\nserviceAccount = \"calrissian-sa\"\n")
	os.WriteFile(filepath.Join(dir, "project.toml"), toml, 0o644)
	p, err := builder.Load(filepath.Join(dir, "project.toml"), builder.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Engine != builder.EngineCluster {
		t.Fatalf("the sample's engine is %s; the test expected to switch it to cluster", p.Engine)
	}
	login := func(_ context.Context, image string, _ []string) (bool, error) {
		return strings.HasPrefix(image, "10.244.0.1:5002/"), nil
	}
	type reader = func(context.Context, string, string) (*agentapi.Account, error)
	accountWith := func(exists bool, registries ...string) reader {
		return func(_ context.Context, ns, name string) (*agentapi.Account, error) {
			return &agentapi.Account{Namespace: "eoap", Name: name, Exists: exists, Secrets: []agentapi.PullSecret{{Name: "push", Registries: registries}}}, nil
		}
	}
	diags := pullSecrets(context.Background(), p, pullSecretSeams{account: accountWith(true, "ghcr.io"), needsLogin: login})
	if len(diags) != 1 {
		t.Fatalf("%d diagnostics, want 1 (one account, one registry): %v", len(diags), diags)
	}
	d := diags[0]
	for _, want := range []string{"crop-green", "eoap/calrissian-sa", "(push)", "10.244.0.1:5002", digest, "app-water-bodies.cwl", "kubectl -n eoap patch serviceaccount calrissian-sa"} {
		if !strings.Contains(d.Message, want) {
			t.Errorf("warning %q does not say %q", d.Message, want)
		}
	}
	if d.Severity != builder.SeverityWarning || d.Line == 0 || d.File != p.File {
		t.Errorf("diagnostic %+v: want a warning at the test's line", d)
	}
	for name, opts := range map[string]pullSecretSeams{
		"covered":     {account: accountWith(true, "10.244.0.1:5002"), needsLogin: login},
		"anonymous":   {account: accountWith(true), needsLogin: func(context.Context, string, []string) (bool, error) { return false, nil }},
		"no registry": {account: accountWith(true), needsLogin: func(context.Context, string, []string) (bool, error) { return false, errors.New("no answer") }},
		"no cluster": {account: func(context.Context, string, string) (*agentapi.Account, error) {
			return nil, errors.New("no kubeconfig")
		}, needsLogin: login},
	} {
		if diags := pullSecrets(context.Background(), p, opts); len(diags) != 0 {
			t.Errorf("%s: %v, want nothing", name, diags)
		}
	}
	if diags := pullSecrets(context.Background(), p, pullSecretSeams{account: accountWith(false), needsLogin: login}); len(diags) != 1 || !strings.Contains(diags[0].Message, "does not exist") {
		t.Errorf("a missing account: %v", diags)
	}
}
