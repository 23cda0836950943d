package skaffold

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/eoap/cwlbuild/builder"
	"github.com/eoap/cwlbuild/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite golden files")

var projects = []string{"anchor", "buildkit", "extended", "localdocker", "multiplatform", "sample"}

func generate(t *testing.T, dir string) []byte {
	_, data := loadAndGenerate(t, dir)
	return data
}

func loadAndGenerate(t *testing.T, dir string) (*builder.Plan, []byte) {
	t.Helper()
	p, err := builder.Load(filepath.Join(dir, "project.toml"), builder.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	data, _, err := Generate(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return p, data
}

// TestGolden compares each testdata project's config with its reviewed golden
// file, and checks that generating twice gives the same bytes.
func TestGolden(t *testing.T) {
	for _, name := range projects {
		t.Run(name, func(t *testing.T) {
			// A copy in a work tree of its own: the tags name the commit
			// wherever the tests run.
			dir := testenv.CopyDir(t, filepath.Join("..", "testdata", "projects", name))
			testenv.FakeWorkTree(t, dir)
			got := generate(t, dir)
			if again := generate(t, dir); !bytes.Equal(got, again) {
				t.Fatal("two runs gave different bytes")
			}
			golden := filepath.Join("..", "testdata", "golden", name+".skaffold.yaml")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("config differs from %s (run go test ./skaffold -update and review):\n%s", golden, got)
			}
		})
	}
}

type buildOutput struct {
	Builds []struct {
		ImageName string `json:"imageName"`
		Tag       string `json:"tag"`
	} `json:"builds"`
}

// TestSkaffoldLoadsEveryProfile hands each generated file to the pinned
// Skaffold: `skaffold build --dry-run -q` parses, upgrades and validates it
// with Skaffold's own code, then lists the images it would build.
func TestSkaffoldLoadsEveryProfile(t *testing.T) {
	sk := testenv.Skaffold(t)
	for _, name := range projects {
		dir := testenv.CopyDir(t, filepath.Join("..", "testdata", "projects", name))
		plan, data := loadAndGenerate(t, dir)
		file := filepath.Join(dir, "skaffold-auto.yaml")
		if err := os.WriteFile(file, data, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, prof := range append([]builder.Profile{""}, builder.Profiles...) {
			t.Run(name+"/"+string(prof), func(t *testing.T) {
				args := []string{"build", "--dry-run", "-q", "-f", file}
				if prof != "" {
					args = append(args, "-p", string(prof))
				}
				out := runSkaffold(t, sk, dir, args...)
				var bo buildOutput
				if err := json.Unmarshal(out, &bo); err != nil {
					t.Fatalf("skaffold output is not build JSON: %v\n%s", err, out)
				}
				effective := prof
				if effective == "" {
					effective = plan.DefaultProfile()
				}
				var got, want []string
				for _, b := range bo.Builds {
					got = append(got, b.ImageName)
				}
				for _, a := range plan.Artifacts {
					want = append(want, a.Images[effective])
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("skaffold would build %v, want %v (in project.toml order)", got, want)
				}
				if effective == builder.ProfileTTL {
					for _, b := range bo.Builds {
						if !strings.HasSuffix(b.Tag, ":"+plan.TTLDuration) {
							t.Errorf("ttl tag %q does not carry the duration %s", b.Tag, plan.TTLDuration)
						}
					}
				}
			})
		}
	}
}

// TestSkaffoldRejectsBrokenConfig proves the dry run is a real check: a
// misspelt field in the generated file makes Skaffold fail. (Not one inside
// build.cluster or kaniko: Skaffold decodes those loosely and ignores typos,
// which is one more reason to generate them from its typed schema.)
func TestSkaffoldRejectsBrokenConfig(t *testing.T) {
	sk := testenv.Skaffold(t)
	dir := testenv.CopyDir(t, filepath.Join("..", "testdata", "projects", "anchor"))
	data := generate(t, dir)
	broken := bytes.Replace(data, []byte("tagPolicy:"), []byte("tagPolcy:"), 1)
	file := filepath.Join(dir, "skaffold-auto.yaml")
	if err := os.WriteFile(file, broken, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(sk, "build", "--dry-run", "-q", "-f", file)
	cmd.Dir = dir
	cmd.Env = skaffoldEnv(dir)
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("skaffold accepted a misspelt field:\n%s", out)
	}
	if !strings.Contains(string(out), "tagPolcy") {
		t.Errorf("skaffold failed for another reason:\n%s", out)
	}
}

func runSkaffold(t *testing.T, sk, dir string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(sk, args...)
	cmd.Dir = dir
	cmd.Env = skaffoldEnv(dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("skaffold %v: %v\n%s", args, err, stderr.String())
	}
	return out
}

// skaffoldEnv keeps Skaffold from reading or writing the user's ~/.skaffold
// and from phoning home.
func skaffoldEnv(dir string) []string {
	return append(os.Environ(),
		"HOME="+dir,
		"SKAFFOLD_UPDATE_CHECK=false",
		"SKAFFOLD_COLLECT_METRICS=false",
	)
}
