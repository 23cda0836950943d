package cwlpatch

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eoap/cwlbuild/builder"
)

// TestTestResources: a tool that asks more RAM or cores than a test's
// Calrissian limits is a finding at its ResourceRequirement, for a test of
// the tool and for a test of the workflow that runs it; within the limits,
// or asked by an expression, none.
func TestTestResources(t *testing.T) {
	for _, tc := range []struct {
		name, resources, limits string
		want                    []string // "line message part"
	}{
		{"within", "{coresMin: 1, ramMin: 256}", "", nil},
		{"within given limits", "{coresMin: 2, ramMin: 2048}", "max_ram = \"2Gi\"\nmax_cores = 2\n", nil},
		{"too much RAM", "{coresMin: 1, ramMin: 2048}", "", []string{"18 process \"tool\" asks ramMin 2048 MiB, more than test tool-test's max_ram 1G", "18 process \"tool\" asks ramMin 2048 MiB, more than test wf-test's max_ram 1G"}},
		{"too many cores", "{coresMin: 4, ramMin: 256}", "max_cores = 2\n", []string{"18 process \"tool\" asks coresMin 4, more than test tool-test's max_cores 2", "18 process \"tool\" asks coresMin 4, more than test wf-test's max_cores 2"}},
		{"an expression", "{coresMin: 1, ramMin: $(inputs.n * 1024)}", "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			cwl := strings.Replace(conformant, "{coresMin: 1, ramMin: 256}", tc.resources, 1)
			os.WriteFile(filepath.Join(dir, "app.cwl"), []byte(cwl), 0o644)
			cluster := ""
			if tc.limits != "" {
				cluster = "[tools.tool.tests.execution.cluster]\n" + tc.limits
			}
			wfCluster := strings.ReplaceAll(cluster, "tools.tool.tests", "workflows.tests")
			toml := "[project]\nname = \"p\"\nversion = \"1.2.0\"\n[build]\nengine = \"local\"\n[build.local]\nregistry = \"localhost:5000\"\n" +
				"[tools.tool]\ncontext = \".\"\npath = \"app.cwl#tool\"\n[[tools.tool.tests]]\nname = \"tool-test\"\n" + cluster +
				"[[workflows]]\npath = \"app.cwl#main\"\n[[workflows.tests]]\nname = \"wf-test\"\n" + wfCluster
			os.WriteFile(filepath.Join(dir, "project.toml"), []byte(toml), 0o644)
			p, err := builder.Load(filepath.Join(dir, "project.toml"), builder.LoadOptions{SkipContexts: true})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, d := range TestResources(p, true) {
				got = append(got, itoa(d.Line)+" "+d.Message)
				if d.Severity != builder.SeverityError || d.File != "app.cwl" || d.Rule != ruleTestResources {
					t.Errorf("diagnostic %+v", d)
				}
			}
			if len(got) != len(tc.want) {
				t.Fatalf("findings %q, want %q", got, tc.want)
			}
			for i, w := range tc.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("finding %q, want it to say %q", got[i], w)
				}
			}
		})
	}
}
