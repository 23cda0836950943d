package main

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	name2 "github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/eoap/cwlbuild/internal/testenv"
)

// TestBuildKitCopyLink measures what `COPY --link` does to an image's
// content, the reason cwlbuild never writes it into a package's
// Dockerfile: the copy becomes a layer of its own, made without looking
// at the layers below, so it is the same image only where the destination's
// directories already are what BuildKit would make them. Where a RUN step
// made the destination's parent a symlink, or gave it its own owner or
// mode, the linked copy gives another image: the files land elsewhere, or
// the parent's owner and mode change. Which case a Dockerfile is in is
// known only once the steps before the copy have run, so no rewrite
// before the build could tell (docs/performance.md).
func TestBuildKitCopyLink(t *testing.T) {
	reg := testenv.StartRegistry(t)
	reg.PushBase(t)
	d := testenv.StartBuildKitd(t)
	for _, c := range []struct {
		name, before string
		same         bool
	}{
		{"a new directory", "", true},
		{"an existing directory of root's", "RUN mkdir -p /opt/tool && echo kept > /opt/tool/old\n", true},
		{"a parent that is a symlink", "RUN mkdir /real && ln -s /real /opt\n", false},
		{"a parent with its own owner and mode", "RUN mkdir -m 0775 /opt && chown 1000:1000 /opt\n", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			images := map[string]map[string]string{}
			for _, flag := range []string{"", "--link "} {
				dir := t.TempDir()
				os.MkdirAll(filepath.Join(dir, "src"), 0o755)
				os.WriteFile(filepath.Join(dir, "src", "tool.py"), []byte("print('tool')\n"), 0o644)
				os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM "+reg.Host+"/library/busybox:1.36\n"+c.before+"COPY "+flag+"src/ /opt/tool/\n"), 0o644)
				ref := fmt.Sprintf("%s/link/%s:%t", reg.Host, strings.ReplaceAll(strings.ReplaceAll(c.name, " ", "-"), "'", ""), flag != "")
				// Through the plugin's bare mode: the Dockerfile as written.
				if out, stderr, code := run(t, "plugin", "--backend", "buildkit", "--buildkit-addr", d.Addr, "--image", ref, "--context", dir); code != 0 {
					t.Fatalf("build %s: %s%s", ref, out, stderr)
				}
				images[flag] = flatContent(t, ref)
			}
			diff := contentDiff(images[""], images["--link "])
			if c.same && diff != "" {
				t.Errorf("COPY and COPY --link give other content:\n%s", diff)
			}
			if !c.same && diff == "" {
				t.Errorf("COPY and COPY --link give the same content here: BuildKit changed; the doc comment and docs/performance.md are out of date")
			}
			t.Logf("%s: %s", c.name, strings.ReplaceAll(cmpOr(diff, "same content\n"), "\n", "; "))
		})
	}
}

func cmpOr(s, or string) string {
	if s == "" {
		return or
	}
	return s
}

// flatContent is an image's file system as its layers make it: each path's
// type, mode, owner, link target and content digest (file times aside).
func flatContent(t *testing.T, ref string) map[string]string {
	t.Helper()
	r, err := name2.ParseReference(ref, name2.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	img, err := remote.Image(r)
	if err != nil {
		t.Fatal(err)
	}
	rc := mutate.Extract(img)
	defer rc.Close()
	out := map[string]string{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("%s: %v", ref, err)
		}
		sum := sha256.New()
		io.Copy(sum, tr)
		out[strings.TrimSuffix(strings.TrimPrefix(h.Name, "./"), "/")] = fmt.Sprintf("type %c mode %o owner %d:%d link %q sha256 %s",
			h.Typeflag, h.Mode, h.Uid, h.Gid, h.Linkname, hex.EncodeToString(sum.Sum(nil))[:12])
	}
}

// contentDiff lists the paths whose entries differ, "" when none do.
func contentDiff(a, b map[string]string) string {
	var lines []string
	for p, va := range a {
		if vb, ok := b[p]; !ok {
			lines = append(lines, fmt.Sprintf("%s: only without --link (%s)", p, va))
		} else if va != vb {
			lines = append(lines, fmt.Sprintf("%s: %s, with --link %s", p, va, vb))
		}
	}
	for p, vb := range b {
		if _, ok := a[p]; !ok {
			lines = append(lines, fmt.Sprintf("%s: only with --link (%s)", p, vb))
		}
	}
	slices.Sort(lines)
	if len(lines) == 0 {
		return ""
	}
	return strings.Join(lines, "\n") + "\n"
}
