package builder

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTestInputsStayInThePackage: every File and Directory a test hands a
// tool (its params by path or location, the CWL files' defaults and
// listings, their $import and $include) is a file of the package, or the
// run is refused with file, line and key; remote locations only with
// [build.tests] remoteInputs, never to this machine or its metadata
// service. Without a run (check, build) each is a warning.
func TestTestInputsStayInThePackage(t *testing.T) {
	param := func(v string) string {
		return base + "\n[[tools.a.tests]]\nname = \"t\"\n[tools.a.tests.params]\n" + v + "\n"
	}
	remote := func(v string) string {
		return strings.Replace(param(v), "[build.cluster]", "[build.tests]\nremoteInputs = true\n\n[build.cluster]", 1)
	}
	outside := filepath.Join(t.TempDir(), "secret.json")
	os.WriteFile(outside, []byte("{}"), 0o600)
	for _, tc := range []struct {
		name, toml, cwl, link string
		want                  string // "" accepted
	}{
		{"path in the package", param(`f = {class = "File", path = "data/in.txt"}`), "", "", ""},
		{"path leaving it", param(`f = {class = "File", path = "../dockercfg-ci/config.json"}`), "", "",
			`24: tools.a.tests.0.params.f.path "../dockercfg-ci/config.json": outside the project directory`},
		{"absolute path", param(`f = {class = "Directory", path = "/etc"}`), "", "",
			`tools.a.tests.0.params.f.path "/etc": outside the project directory`},
		{"file URL", param(`f = {class = "File", location = "file:///etc/shadow"}`), "", "",
			`tools.a.tests.0.params.f.location "file:///etc/shadow": outside the project directory`},
		{"file URL in the package", param(`f = {class = "File", location = "file://PKG/data/in.txt"}`), "", "", ""},
		{"nested in a list", param(`fs = [{class = "File", path = "data/in.txt"}, {class = "File", path = "data/in.txt", secondaryFiles = [{class = "File", location = "/root/.docker/config.json"}]}]`), "", "",
			`tools.a.tests.0.params.fs.1.secondaryFiles.0.location "/root/.docker/config.json": outside`},
		{"symlink out of the package", param(`f = {class = "File", path = "data/link.json"}`), "", "data/link.json",
			`a symlink to`},
		{"remote, not allowed", param(`f = {class = "File", location = "https://example.org/a.tif"}`), "", "",
			`"https://example.org/a.tif": a remote input (allow http, https, s3 and gs with [build.tests] remoteInputs = true)`},
		{"remote, allowed", remote(`f = {class = "File", location = "https://example.org/a.tif"}`), "", "", ""},
		{"bucket, allowed", remote(`f = {class = "File", location = "s3://bucket/a.tif"}`), "", "", ""},
		{"metadata service", remote(`f = {class = "File", location = "http://169.254.169.254/latest/meta-data/iam/security-credentials/"}`), "", "",
			`host 169.254.169.254 is a loopback, link-local or private address`},
		{"loopback", remote(`f = {class = "File", location = "http://127.0.0.1:8080/x"}`), "", "", `loopback`},
		{"localhost", remote(`f = {class = "File", location = "http://localhost/x"}`), "", "", `this machine`},
		{"other scheme", param(`f = {class = "File", location = "ftp://example.org/x"}`), "", "", `scheme "ftp" is not an input`},
		{"CWL default outside", base, "cwlVersion: v1.2\n$graph:\n- class: CommandLineTool\n  id: a\n  inputs:\n    f:\n      type: File\n      default: {class: File, location: /etc/passwd}\n", "",
			`app.cwl:8: File location "/etc/passwd": outside the project directory`},
		{"CWL default in the package", base, "cwlVersion: v1.2\n$graph:\n- class: CommandLineTool\n  id: a\n  inputs:\n    f:\n      type: File\n      default: {class: File, location: data/in.txt}\n", "", ""},
		{"CWL $include outside", base, "cwlVersion: v1.2\n$graph:\n- class: CommandLineTool\n  id: a\n  arguments: [{$include: ../../etc/hostname}]\n", "",
			`app.cwl:5: $include "../../etc/hostname": outside the project directory`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := writeProject(t, tc.toml)
			dir := filepath.Dir(file)
			os.MkdirAll(filepath.Join(dir, "data"), 0o755)
			os.WriteFile(filepath.Join(dir, "data", "in.txt"), []byte("x"), 0o644)
			if tc.link != "" {
				os.Symlink(outside, filepath.Join(dir, tc.link))
			}
			if tc.cwl != "" {
				os.WriteFile(filepath.Join(dir, "app.cwl"), []byte(tc.cwl), 0o644)
			}
			if strings.Contains(tc.toml, "PKG") {
				os.WriteFile(file, []byte(strings.ReplaceAll(tc.toml, "PKG", dir)), 0o644)
			}
			// A run: refused.
			_, err := Load(file, LoadOptions{ConfineTestVolumes: true})
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && err == nil:
				t.Fatalf("accepted, want %q", tc.want)
			case tc.want != "" && !strings.Contains(err.Error(), tc.want):
				t.Fatalf("error %v\nwant %q", err, tc.want)
			}
			// No run: a warning, nothing refused.
			p, err := Load(file, LoadOptions{})
			if err != nil {
				t.Fatalf("without a run: %v", err)
			}
			if tc.want != "" && !strings.Contains(errorsText(p.Warnings), tc.want) {
				t.Errorf("without a run, warnings %q lack %q", errorsText(p.Warnings), tc.want)
			}
		})
	}
}

func errorsText(ds []Diagnostic) string {
	var b strings.Builder
	for _, d := range ds {
		fmt.Fprintf(&b, "%s:%d: %s\n", d.File, d.Line, d.Message)
	}
	return b.String()
}
