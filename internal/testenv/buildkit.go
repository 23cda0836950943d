package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// BuildKitd is a buildkitd of one test's own: an empty layer cache, its own
// state directory and socket.
type BuildKitd struct {
	Addr string // unix:///...
	Root string // its state
	Log  string // its log file
	cmd  *exec.Cmd
}

// Kill ends the daemon at once (SIGKILL), as a crash or an OOM kill does.
func (d *BuildKitd) Kill() { d.cmd.Process.Kill() }

// StartBuildKitd starts a buildkitd (scripts/buildkitd.sh builds it, at the
// version scripts/buildkit pins) that lives as long as the test. It needs
// root, as buildkitd with runc does.
func StartBuildKitd(t testing.TB) *BuildKitd {
	t.Helper()
	RealEngine(t)
	out, err := exec.Command(filepath.Join(ModuleRoot(), "scripts", "buildkitd.sh"), "path").Output()
	bin := strings.TrimSpace(string(out))
	if err == nil {
		_, err = os.Stat(bin)
	}
	if err != nil {
		Missing(t, "buildkitd (scripts/buildkitd.sh build)", err)
	}
	if os.Getuid() != 0 {
		Missing(t, "buildkitd", fmt.Errorf("it runs as root here"))
	}
	dir := t.TempDir()
	d := &BuildKitd{Addr: "unix://" + filepath.Join(dir, "buildkitd.sock"), Root: filepath.Join(dir, "root"), Log: filepath.Join(dir, "buildkitd.log")}
	conf := filepath.Join(dir, "buildkitd.toml")
	os.WriteFile(conf, []byte("[worker.oci]\n  enabled = true\n[worker.containerd]\n  enabled = false\n"), 0o644)
	logf, err := os.Create(d.Log)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--config", conf, "--root", d.Root, "--addr", d.Addr, "--otel-socket-path", filepath.Join(dir, "otel.sock"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d.cmd = cmd
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		// SIGTERM: buildkitd unmounts its snapshots before it exits, so
		// the state directory can be removed.
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		logf.Close()
		unmountUnder(d.Root)
	})
	sock := strings.TrimPrefix(d.Addr, "unix://")
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := os.Stat(sock); err == nil {
			return d
		}
		select {
		case <-exited:
			log, _ := os.ReadFile(d.Log)
			t.Fatalf("buildkitd exited at start:\n%s", log)
		default:
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(d.Log)
			t.Fatalf("buildkitd did not listen on %s in 30s:\n%s", d.Addr, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// unmountUnder detaches every mount below dir, deepest first: a daemon that
// was killed leaves its overlay and cache mounts behind.
func unmountUnder(dir string) {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return
	}
	var points []string
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) > 4 && strings.HasPrefix(f[4], dir+"/") {
			points = append(points, f[4])
		}
	}
	for i := len(points) - 1; i >= 0; i-- {
		syscall.Unmount(points[i], syscall.MNT_DETACH)
	}
}
