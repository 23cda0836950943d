package verify_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eoap/cwlbuild/build"
	"github.com/eoap/cwlbuild/builder"
	"github.com/eoap/cwlbuild/check"
	"github.com/eoap/cwlbuild/internal/registry/remote"
	"github.com/eoap/cwlbuild/internal/testenv"
	"github.com/eoap/cwlbuild/release/attest"
	"github.com/eoap/cwlbuild/release/publish"
	"github.com/eoap/cwlbuild/release/verify"
)

// keySigner is a signer another program brings: attest takes any.
type keySigner struct{ key *ecdsa.PrivateKey }

func (s keySigner) Sign(payload []byte) (string, error) {
	sum := sha256.Sum256(payload)
	sig, err := ecdsa.SignASN1(rand.Reader, s.key, sum[:])
	return base64.StdEncoding.EncodeToString(sig), err
}

func (s keySigner) Public() crypto.PublicKey { return &s.key.PublicKey }

// TestStagesFromTheirPackages runs a release the way another program
// would, through the stages' public packages alone (the registry and the
// tool's image are the test's setup): check, publish, sign and attest,
// then verify, which accepts the release and refuses it under another key.
func TestStagesFromTheirPackages(t *testing.T) {
	ctx := context.Background()
	host := testenv.MemoryRegistry(t)
	tool, err := remote.Push(ctx, host+"/eoap/a", []string{"1"}, &remote.Artifact{ArtifactType: "application/x-tool", Files: []remote.File{{Data: []byte("x"), MediaType: "application/x-tool"}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	pin, err := build.ParseBuilt(host + "/eoap/a:1@" + tool)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "a"), 0o755)
	os.WriteFile(filepath.Join(dir, "a", "Dockerfile"), []byte("FROM scratch\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "app.cwl"), []byte(fmt.Sprintf(`cwlVersion: v1.2
$graph:
  - class: Workflow
    id: main
    label: main
    doc: main
    inputs: []
    outputs: []
    steps:
      s: {run: "#a", in: [], out: []}
  - class: CommandLineTool
    id: a
    requirements:
      DockerRequirement:
        dockerPull: %s
    baseCommand: [x]
    inputs: []
    outputs: []
`, pin.Ref())), 0o644)
	file := filepath.Join(dir, "project.toml")
	os.WriteFile(file, []byte(fmt.Sprintf(`[project]
name = "p"
version = "1.0.0"
[build]
engine = "cluster"
[build.cluster]
registry = "%s/eoap"
[tools.a]
context = "a"
path = "app.cwl#a"
[[workflows]]
path = "app.cwl#main"
`, host)), 0o644)

	diags, plan := check.Collect(ctx, file, check.Options{})
	if plan == nil || check.Errors(diags) > 0 {
		t.Fatalf("check: %v", diags)
	}
	releases, err := publish.Prepare(ctx, plan, publish.Options{Registry: host + "/rel"})
	if err != nil {
		t.Fatal(err)
	}
	if err := publish.Push(ctx, plan, releases, nil); err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	opts := attest.Options{Signer: keySigner{key}, Formats: attest.Formats{Legacy: true, Bundle: true}, Out: &out}
	workflow := build.Built{Repo: releases[0].Repo, Digest: releases[0].Digest}
	for _, img := range []build.Built{pin, workflow} {
		if err := attest.Sign(ctx, img, opts); err != nil {
			t.Fatal(err)
		}
	}
	if err := attest.Image(ctx, plan, pin, opts); err != nil {
		t.Fatal(err)
	}
	if err := attest.Workflow(ctx, plan, workflow, []build.Built{pin}, opts); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out.String(), "\n"); n != 4 {
		t.Errorf("attest printed %d lines, want 4 (2 signed, 2 attested):\n%s", n, out.String())
	}

	rep, err := verify.Artifact(ctx, workflow.Ref(), verify.Options{Key: &key.PublicKey})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Failed() || len(rep.Images) != 1 || len(rep.Diagnostics()) != 0 {
		t.Errorf("verify: %+v", rep.Diagnostics())
	}
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rep, err = verify.Artifact(ctx, workflow.Ref(), verify.Options{Key: &other.PublicKey})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Failed() || len(rep.Diagnostics()) == 0 || rep.Diagnostics()[0].Severity != builder.SeverityError {
		t.Errorf("verify under another key: %+v", rep.Diagnostics())
	}
}
