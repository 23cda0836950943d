package cwltest

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/eoap/cwlbuild/builder"
	"github.com/eoap/cwlbuild/internal/agentapi"
	"github.com/eoap/cwlbuild/internal/testenv"
)

// TestPlanJob: a test planned as a Job names only the cluster's paths, all
// in its own run directory; stages the CWL at its path in the package and
// the params' files, which the staged params name; and copies back what
// Calrissian writes.
func TestPlanJob(t *testing.T) {
	dir := testenv.CopyDir(t, filepath.Join("..", "testdata", "projects", "sample"))
	p, err := builder.Load(filepath.Join(dir, "project.toml"), builder.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := PlanAll(p, Selector{}, Options{Engine: EngineCluster, Mode: ModeJob}); err == nil || !strings.Contains(err.Error(), "[build.calrissian] image") {
		t.Errorf("no Calrissian image: %v, want it asked for", err)
	}
	for _, c := range p.Tests {
		c.Job.Image = "registry.example/calrissian:0.14.0"
	}
	runs, err := PlanAll(p, Selector{}, Options{Engine: EngineCluster, Mode: ModeJob})
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, r := range runs {
		j := r.Job
		if j == nil {
			t.Fatalf("%s: not planned as a Job", r.Test.ID)
		}
		s := j.Spec
		if !regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`).MatchString(s.Name) || len(s.Name) > 63 || names[s.Name] {
			t.Errorf("%s: run name %q is not a unique Kubernetes label value", r.Test.ID, s.Name)
		}
		names[s.Name] = true
		if j.RunDir != "/calrissian/"+s.Name {
			t.Errorf("%s: run directory %s", r.Test.ID, j.RunDir)
		}
		if want := []string{agentapi.Program, "run", "--spec", j.SpecFile}; !slices.Equal(r.Argv, want) {
			t.Errorf("%s: argv %q, want %q", r.Test.ID, r.Argv, want)
		}
		if filepath.Dir(j.SpecFile) != r.Volume {
			t.Errorf("%s: spec %s not in the volume %s", r.Test.ID, j.SpecFile, r.Volume)
		}
		// Every path Calrissian is given is the run's.
		for i, a := range s.Args {
			if strings.HasPrefix(a, "/") && !strings.HasPrefix(a, j.RunDir+"/") {
				t.Errorf("%s: argument %d %q is outside the run directory", r.Test.ID, i, a)
			}
			if strings.Contains(a, dir) {
				t.Errorf("%s: argument %q names this machine's path", r.Test.ID, a)
			}
		}
		file, id := builder.SplitProcessRef(r.Test.Ref)
		ref := j.RunDir + "/.input/" + file + "#" + id
		if n := len(s.Args); n < 2 || s.Args[n-2] != ref || !strings.HasSuffix(s.Args[n-1], ".params.yaml") {
			t.Errorf("%s: args end %q, want the staged %s and the params", r.Test.ID, s.Args, ref)
		}
		if !slices.Contains(s.Args, "--pod-labels") || !slices.Contains(s.Args, "--max-ram") {
			t.Errorf("%s: args %q lack --pod-labels or --max-ram", r.Test.ID, s.Args)
		}
		staged := map[string]staged{}
		for _, st := range j.Stage {
			staged[st.remote] = st
		}
		if st, ok := staged[".input/"+file]; !ok || st.local != filepath.Join(dir, file) {
			t.Errorf("%s: the CWL is not staged at its package path: %+v", r.Test.ID, j.Stage)
		}
		params := string(r.ParamsYAML)
		for remote, st := range staged {
			if strings.HasPrefix(remote, ".input/params/") {
				if !strings.Contains(params, j.RunDir+"/"+remote) {
					t.Errorf("%s: staged %s but the params do not name it:\n%s", r.Test.ID, remote, params)
				}
				if _, err := os.Stat(st.local); err != nil {
					t.Errorf("%s: staged input %s: %v", r.Test.ID, st.local, err)
				}
			}
		}
		if strings.Contains(params, dir) {
			t.Errorf("%s: the staged params name this machine's paths:\n%s", r.Test.ID, params)
		}
		rel := func(p string) string { s, _ := filepath.Rel(r.Volume, p); return filepath.ToSlash(s) }
		for _, f := range []string{r.Stdout, r.Stderr, r.Outdir} {
			if !slices.Contains(s.Fetch, rel(f)) {
				t.Errorf("%s: %s is not copied back (fetch %q)", r.Test.ID, rel(f), s.Fetch)
			}
		}
		if r.Test.UsageReport != "" && !slices.Contains(s.Fetch, rel(r.Test.UsageReport)) {
			t.Errorf("%s: the usage report is not copied back", r.Test.ID)
		}
		if r.Test.ToolLogsBasepath != "" {
			if _, ok := staged[rel(r.Test.ToolLogsBasepath)]; !ok {
				t.Errorf("%s: the tool logs' directory is not made before Calrissian runs", r.Test.ID)
			}
		}
		if s.Image != "registry.example/calrissian:0.14.0" || s.StartTimeout != agentapi.Duration(5*time.Minute) || s.Timeout != agentapi.Duration(time.Hour) || s.VolumeSize != "1Gi" {
			t.Errorf("%s: defaults %+v", r.Test.ID, s)
		}
	}
	// The stage stream carries what the plan lists.
	var buf bytes.Buffer
	if err := runs[0].Job.stageTar(&buf); err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(&buf)
	var got []string
	for h, err := tr.Next(); err == nil; h, err = tr.Next() {
		got = append(got, h.Name)
	}
	if !slices.Contains(got, ".input/cwl-workflow/app-water-bodies.cwl") || !slices.Contains(got, ".input/pod-labels.yaml") {
		t.Errorf("stage stream: %q", got)
	}
}

// TestStageRefusesLinks: a directory of the params with a symlink in it
// is not staged (the link would lead elsewhere in the cluster).
func TestStageRefusesLinks(t *testing.T) {
	d := t.TempDir()
	os.Symlink("/etc/passwd", filepath.Join(d, "passwd"))
	j := &Job{Stage: []staged{{remote: ".input/params/1/d", local: d}}}
	var buf bytes.Buffer
	if err := j.stageTar(&buf); err == nil || !strings.Contains(err.Error(), "symlink") {
		t.Errorf("stageTar: %v, want the symlink refused", err)
	}
}

// TestUnpackResults: the results stream, as hostile as the tools' images,
// writes only regular files and directories inside the volume; the output
// object names the local volume; a name that leaves it, or a link planted
// in the volume, stops it.
func TestUnpackResults(t *testing.T) {
	tarOf := func(entries ...[3]string) []byte {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		for _, e := range entries {
			h := &tar.Header{Name: e[0], Typeflag: e[1][0], Mode: 0o644, Size: int64(len(e[2]))}
			if h.Typeflag != tar.TypeReg {
				h.Size, h.Linkname = 0, "/etc/passwd"
			}
			tw.WriteHeader(h)
			if h.Typeflag == tar.TypeReg {
				tw.Write([]byte(e[2]))
			}
		}
		tw.Close()
		return buf.Bytes()
	}
	vol := filepath.Join(t.TempDir(), "vol")
	os.MkdirAll(vol, 0o755)
	out := `{"water": {"location": "file:///calrissian/run-1/results/water.csv", "path": "/calrissian/run-1/results/water.csv"}}`
	skipped, err := unpackResults(bytes.NewReader(tarOf(
		[3]string{"./results/", string(tar.TypeDir), ""},
		[3]string{"./results/water.csv", string(tar.TypeReg), "a,b\n"},
		[3]string{"./results.json", string(tar.TypeReg), out},
		[3]string{"./results/shadow", string(tar.TypeSymlink), ""},
	)), vol, vol, "/calrissian/run-1", "results.json")
	if err != nil || skipped != 1 {
		t.Fatalf("unpack: %v, %d skipped; want 1 (the link)", err, skipped)
	}
	if data, _ := os.ReadFile(filepath.Join(vol, "results", "water.csv")); string(data) != "a,b\n" {
		t.Errorf("water.csv %q", data)
	}
	var obj map[string]map[string]string
	data, _ := os.ReadFile(filepath.Join(vol, "results.json"))
	if err := json.Unmarshal(data, &obj); err != nil || obj["water"]["path"] != filepath.Join(vol, "results", "water.csv") || obj["water"]["location"] != "file://"+filepath.Join(vol, "results", "water.csv") {
		t.Errorf("output object %s, want the local paths", data)
	}
	if _, err := os.Lstat(filepath.Join(vol, "results", "shadow")); err == nil {
		t.Error("a symlink from the cluster was written")
	}
	if _, err := unpackResults(bytes.NewReader(tarOf([3]string{"../up", string(tar.TypeReg), "x"})), vol, vol, "/r", ""); err == nil {
		t.Error("a name leaving the volume was accepted")
	}
	os.Symlink(t.TempDir(), filepath.Join(vol, "planted"))
	if _, err := unpackResults(bytes.NewReader(tarOf([3]string{"planted/x", string(tar.TypeReg), "x"})), vol, vol, "/r", ""); err == nil {
		t.Error("a file was written through a symlink planted in the volume")
	}
}

// TestChooseMode: auto is a Job outside a pod (no service address), and
// an explicit mode is kept.
func TestChooseMode(t *testing.T) {
	none := func(string) string { return "" }
	inPod := func(k string) string {
		if k == "KUBERNETES_SERVICE_HOST" {
			return "10.96.0.1"
		}
		return ""
	}
	if m := ChooseMode(ModeAuto, none); m != ModeJob {
		t.Errorf("outside a pod: %s, want job", m)
	}
	if m := ChooseMode("", none); m != ModeJob {
		t.Errorf("unset mode outside a pod: %s, want job", m)
	}
	if m := ChooseMode(ModePod, none); m != ModePod {
		t.Errorf("explicit pod: %s", m)
	}
	if m := ChooseMode(ModeJob, inPod); m != ModeJob {
		t.Errorf("explicit job in a pod: %s", m)
	}
	// In a pod, auto is pod only with a service account token and
	// calrissian on PATH, which this machine has not.
	if _, err := os.Stat("/var/run/secrets/kubernetes.io/serviceaccount/token"); err != nil {
		if m := ChooseMode(ModeAuto, inPod); m != ModeJob {
			t.Errorf("no service account mounted: %s, want job", m)
		}
	}
}

// TestPlanJobRefusesOutsideParams: a params file outside the package (or
// reached through a committed symlink) is never staged into the cluster.
func TestPlanJobRefusesOutsideParams(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "config.json")
	os.WriteFile(secret, []byte("{}"), 0o600)
	for name, path := range map[string]string{"absolute": secret, "link": "data/link.json"} {
		t.Run(name, func(t *testing.T) {
			dir := testenv.CopyDir(t, filepath.Join("..", "testdata", "projects", "sample"))
			os.Symlink(secret, filepath.Join(dir, "data", "link.json"))
			toml, _ := os.ReadFile(filepath.Join(dir, "project.toml"))
			toml = []byte(strings.Replace(string(toml), `raster = { class = "File", path = "data/ndwi.csv" }`, `raster = { class = "File", path = "`+path+`" }`, 1))
			os.WriteFile(filepath.Join(dir, "project.toml"), toml, 0o644)
			p, err := builder.Load(filepath.Join(dir, "project.toml"), builder.LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range p.Tests {
				c.Job.Image = "registry.example/calrissian:0.14.0"
			}
			_, err = PlanAll(p, Selector{Tools: []string{"otsu"}}, Options{Engine: EngineCluster, Mode: ModeJob})
			if err == nil || !strings.Contains(err.Error(), "outside the package") || !strings.Contains(err.Error(), "tools.otsu.tests.0.params") {
				t.Errorf("%s: %v, want it refused naming the test's params", path, err)
			}
		})
	}
}
