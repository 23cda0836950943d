package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/eoap/cwlbuild/builder"
	"github.com/eoap/cwlbuild/cwltest"
	"github.com/eoap/cwlbuild/internal/testenv"
)

// TestCalrissianReceivesArgv: Calrissian cannot run here, so a recording
// `calrissian` on PATH checks the argv cwlbuild test gives it, word for
// word, and that the params reached the test's own volume intact.
func TestCalrissianReceivesArgv(t *testing.T) {
	dir := testenv.CopyDir(t, "../../testdata/projects/cwltests")
	vol := filepath.Join(t.TempDir(), "vol with space")
	project := filepath.Join(dir, "project.toml")
	data, _ := os.ReadFile(project)
	os.WriteFile(project, []byte(strings.ReplaceAll(string(data), "/calrissian/vol with space", vol)), 0o644)

	bin := t.TempDir()
	record := filepath.Join(t.TempDir(), "argv")
	script := "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\0' \"$a\"; done >> \"$RECORD\"\nprintf '\\n\\0' >> \"$RECORD\"\n"
	os.WriteFile(filepath.Join(bin, "calrissian"), []byte(script), 0o755)
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("RECORD", record)
	t.Setenv("DASK_GATEWAY_ADDRESS", "http://gateway:8000")
	cwd := t.TempDir()
	t.Chdir(cwd)

	// --dry-run writes nothing and runs nothing.
	out, stderr, code := run(t, "test", "-f", project, "--dry-run", "--cluster-mode", "pod")
	if code != 0 || strings.Count(out, "\n") != 3 {
		t.Fatalf("dry run: exit %d\n%s%s", code, out, stderr)
	}
	if _, err := os.Stat(record); err == nil {
		t.Fatal("--dry-run ran calrissian")
	}
	if _, err := os.Stat(vol); err == nil {
		t.Fatal("--dry-run created the volume")
	}

	// The volume is outside the project: the run writes there only when
	// allowed.
	_, stderr, code = run(t, "test", "-f", project, "--cluster-mode", "pod")
	if code != 1 || !strings.Contains(stderr, `tools.echo.tests.0.execution.paths.volume "`+vol+`": outside the project directory (allow with --allow-outside-paths)`) {
		t.Fatalf("volume outside the project: exit %d\n%s", code, stderr)
	}
	if _, err := os.Stat(vol); err == nil {
		t.Fatal("a refused run created the volume")
	}
	out, stderr, code = run(t, "--allow-outside-paths", "test", "-f", project, "--cluster-mode", "pod")
	if code != 0 || !strings.Contains(out, "3 tests passed") {
		t.Fatalf("exit %d\n%s%s", code, out, stderr)
	}
	raw, _ := os.ReadFile(record)
	var got [][]string
	for _, call := range strings.Split(strings.TrimSuffix(string(raw), "\n\x00"), "\n\x00") {
		got = append(got, strings.Split(strings.TrimSuffix(call, "\x00"), "\x00"))
	}
	p, err := builder.Load(project, builder.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cases, _ := cwltest.Select(p, cwltest.Selector{})
	var want [][]string
	for _, c := range cases {
		r, err := cwltest.PlanRun(p, c, cwltest.Options{Engine: cwltest.EngineCluster, Mode: cwltest.ModePod})
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, r.Argv[1:])
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("calrissian received\n%q\nwant\n%q", got, want)
	}
	// The hostile params reached the volume as data, byte for byte.
	params, err := os.ReadFile(filepath.Join(vol, "tools.echo.0-hostile_values.params.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var job map[string]any
	yaml.Unmarshal(params, &job)
	if job["msg"] != "it's \"quoted\" $(rm -rf /) `id` ; | & *" {
		t.Errorf("msg = %q", job["msg"])
	}
	if entries, _ := os.ReadDir(cwd); len(entries) != 0 {
		t.Errorf("files written to the current directory: %v", entries)
	}
}

// TestSignalReachesTheEngine: SIGTERM or SIGINT to `cwlbuild test` is passed
// on to the engine, which gets to stop (here it records the signal and
// exits), and cwlbuild reports the interruption with exit 1.
func TestSignalReachesTheEngine(t *testing.T) {
	bin := testenv.BuildBinary(t, "./cmd/cwlbuild")
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		dir := testenv.CopyDir(t, "../../testdata/projects/published")
		engine := t.TempDir()
		got := filepath.Join(engine, "got")
		script := "#!/bin/sh\ntrap 'echo TERM > " + got + "; exit 143' TERM\ntrap 'echo INT > " + got + "; exit 130' INT\necho started > " + got + "\nwhile :; do sleep 0.05; done\n"
		os.WriteFile(filepath.Join(engine, "cwltool"), []byte(script), 0o755)
		cmd := exec.Command(bin, "test", "-f", filepath.Join(dir, "project.toml"), "--engine", "local")
		cmd.Env = append(os.Environ(), "PATH="+engine+string(os.PathListSeparator)+os.Getenv("PATH"))
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			if data, _ := os.ReadFile(got); string(data) == "started\n" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the engine never started:\n%s", stderr.String())
			}
		}
		cmd.Process.Signal(sig)
		err := cmd.Wait()
		data, _ := os.ReadFile(got)
		name := map[syscall.Signal]string{syscall.SIGTERM: "TERM", syscall.SIGINT: "INT"}[sig]
		if string(data) != name+"\n" {
			t.Errorf("%v: the engine recorded %q", sig, data)
		}
		if err == nil || !strings.Contains(stderr.String(), "cwltool stopped: interrupted by "+sig.String()) {
			t.Errorf("%v: exit %v\n%s", sig, err, stderr.String())
		}
	}
}
