package build

import (
	"archive/tar"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/eoap/cwlbuild/internal/agentapi"
)

// TestKanikoPodsCommands: one executor run per platform, each for its own
// platform, pushing under the build's tag with the platform appended,
// reading the context and the Dockerfile where the pod holds them, and
// leaving the digest as the pod's termination message.
func TestKanikoPodsCommands(t *testing.T) {
	s := &Spec{Image: "r.io/p/crop:1.0", Context: "/home/u/pkg/crop", Dockerfile: "docker/Dockerfile", Platforms: []string{"linux/amd64", "linux/arm64"}}
	cmds, err := KanikoPods{}.Commands(s)
	if err != nil || len(cmds) != 2 {
		t.Fatalf("%v %v", cmds, err)
	}
	for i, p := range s.Platforms {
		got := cmds[i].String()
		for _, want := range []string{
			"--custom-platform " + p,
			"--destination r.io/p/crop:1.0-" + strings.ReplaceAll(p, "/", "-"),
			"--context dir://" + agentapi.ContextDir,
			"--dockerfile " + agentapi.DockerfilePath,
			"--digest-file /dev/termination-log",
		} {
			if !strings.Contains(got, want) {
				t.Errorf("%s: %s lacks %q", p, got, want)
			}
		}
		if strings.Contains(got, "/home/u") {
			t.Errorf("%s: a path of this machine reaches the pod: %s", p, got)
		}
	}
	if _, err := (KanikoPods{}).Commands(&Spec{Image: "r/x:1"}); err == nil {
		t.Error("no platform: no error")
	}
}

// TestPlatformTag: the platform is appended to the tag, a tag too long for
// it is cut so the result stays a valid tag.
func TestPlatformTag(t *testing.T) {
	if got, _ := PlatformTag("127.0.0.1:5000/a/b:v1", "linux/arm/v7"); got != "127.0.0.1:5000/a/b:v1-linux-arm-v7" {
		t.Errorf("got %q", got)
	}
	if got, _ := PlatformTag("r/b", "linux/arm64"); got != "r/b:latest-linux-arm64" {
		t.Errorf("untagged: %q", got)
	}
	long := strings.Repeat("x", 128)
	got, err := PlatformTag("r/b:"+long, "linux/arm64")
	if _, tag, _ := strings.Cut(got, ":"); err != nil || len(tag) != 128 || !strings.HasSuffix(tag, "-linux-arm64") {
		t.Errorf("long tag: %q %v", got, err)
	}
}

// TestContextTar: the context under context/, a symbolic link as a link
// (never followed out of the package), the Dockerfile as Dockerfile.
func TestContextTar(t *testing.T) {
	dir := t.TempDir()
	ctx := filepath.Join(dir, "ctx")
	os.MkdirAll(filepath.Join(ctx, "src"), 0o755)
	os.WriteFile(filepath.Join(ctx, "src", "run.sh"), []byte("echo hi\n"), 0o755)
	os.WriteFile(filepath.Join(dir, "secret"), []byte("s3cr3t"), 0o600)
	os.Symlink(filepath.Join(dir, "secret"), filepath.Join(ctx, "link"))
	df := filepath.Join(dir, "Dockerfile")
	os.WriteFile(df, []byte("FROM busybox\n"), 0o644)
	file := filepath.Join(dir, "c.tar")
	if err := writeContextTar(file, ctx, df); err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(file)
	defer f.Close()
	tr := tar.NewReader(f)
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		data, _ := io.ReadAll(tr)
		switch h.Name {
		case "context/link":
			if h.Typeflag != tar.TypeSymlink || len(data) != 0 {
				t.Errorf("the link was followed: type %c, %q", h.Typeflag, data)
			}
		case "context/src/run.sh":
			if string(data) != "echo hi\n" || h.Mode&0o111 == 0 {
				t.Errorf("run.sh: %q mode %o", data, h.Mode)
			}
		case "Dockerfile":
			if string(data) != "FROM busybox\n" {
				t.Errorf("Dockerfile: %q", data)
			}
		}
	}
	want := []string{"context/", "context/link", "context/src/", "context/src/run.sh", "Dockerfile"}
	if !slices.Equal(names, want) {
		t.Errorf("entries %q, want %q", names, want)
	}
}
