package build

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/eoap/cwlbuild/builder"
	"github.com/eoap/cwlbuild/internal/atomicfile"
	"github.com/eoap/cwlbuild/internal/imageref"
	"github.com/eoap/cwlbuild/skaffold/buildjson"
)

// TarballOptions tune Tarballs.
type TarballOptions struct {
	// Profile names the registry the images are named for; "" is the one
	// [build] engine selects.
	Profile builder.Profile
	// Tag is the image tag; "" is [project] version, else "latest".
	Tag string
	// Tools are the tools to build, by name; none is every tool.
	Tools []string
	// Dir receives TOOL.tar, TOOL.digest and build.json.
	Dir string
	// Executor is the Kaniko executor's path ("" is DefaultExecutor).
	Executor string
	// Run runs each command (nil: Exec to os.Stdout and os.Stderr).
	Run Runner
	// DryRun runs nothing and writes nothing: each Tarball holds only the
	// tool, its image and the commands that would build it.
	DryRun bool
	// Progress receives a line as each tool's build starts and ends.
	Progress io.Writer
}

// Tarball is one image built to a tarball, and the digest it will have once
// pushed with `skopeo copy --preserve-digests`; for a tool of several
// platforms, an OCI layout holding the index of their images (pushed with
// `skopeo copy --all --preserve-digests oci:DIR/TOOL`), each platform's
// image also a tarball of its own.
type Tarball struct {
	Tool      string
	ImageName string // registry/path, no tag
	Path      string // the tarball; for several platforms, the OCI layout
	// Archives are each platform's docker-archive (TOOL-linux-arm64.tar),
	// nil for one platform (Path is the archive).
	Archives []PlatformArchive
	Image    Built // ImageName:TAG@sha256:... (zero in a dry run)
	// Commands are what built it (or, in a dry run, would).
	Commands []Command
}

// Tarballs builds each tool's image with Kaniko into a tarball, pushing
// nothing, in project.toml order, holding the Kaniko lock throughout; writes
// TOOL.digest beside each and, once all are built, build.json (the build
// output cwlpatch reads) in opts.Dir. Every tool name and image reference
// is checked before the first build, so a bad tag does not surface after
// minutes of building.
func Tarballs(ctx context.Context, p *builder.Plan, opts TarballOptions) ([]Tarball, error) {
	prof := opts.Profile
	if prof == "" {
		prof = p.DefaultProfile()
	} else if _, err := builder.ParseProfile(string(prof)); err != nil {
		return nil, err
	}
	tag := opts.Tag
	if tag == "" {
		tag = p.Version
	}
	if tag == "" {
		tag = "latest"
	}
	arts := p.Artifacts
	if len(opts.Tools) > 0 {
		arts = nil
		for _, n := range opts.Tools {
			a, err := p.Artifact(n)
			if err != nil {
				return nil, err
			}
			arts = append(arts, a)
		}
	}
	for _, a := range arts {
		if _, err := imageref.Parse(a.Images[prof] + ":" + tag); err != nil {
			return nil, fmt.Errorf("tool %s: %v", a.Tool, err)
		}
	}
	if opts.Progress == nil {
		opts.Progress = io.Discard
	}
	if opts.Run == nil {
		opts.Run = Exec(os.Stdout, os.Stderr)
	}
	if !opts.DryRun {
		if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
			return nil, err
		}
		unlock, err := Kaniko{}.Lock()
		if err != nil {
			return nil, err
		}
		defer unlock()
	}
	var out []Tarball
	for _, a := range arts {
		tb, err := tarball(ctx, p, a, prof, tag, opts)
		if err != nil {
			return out, err
		}
		out = append(out, tb)
	}
	if opts.DryRun {
		return out, nil
	}
	return out, writeBuildJSON(ctx, filepath.Join(opts.Dir, "build.json"), out)
}

func tarball(ctx context.Context, p *builder.Plan, a *builder.Artifact, prof builder.Profile, tag string, opts TarballOptions) (Tarball, error) {
	if len(a.Platforms) > 1 {
		return platformTarballs(ctx, p, a, prof, tag, opts)
	}
	name := a.Images[prof]
	s := NewSpec(p, a, name+":"+tag, "")
	s.Tarball = filepath.Join(opts.Dir, a.Tool+".tar")
	cmds, err := Kaniko{Executor: opts.Executor}.Commands(s)
	if err != nil {
		return Tarball{}, err
	}
	tb := Tarball{Tool: a.Tool, ImageName: name, Path: s.Tarball, Commands: cmds}
	if opts.DryRun {
		return tb, nil
	}
	fmt.Fprintf(opts.Progress, "building %s as %s\n", a.Tool, s.Image)
	for _, cmd := range cmds {
		if err := opts.Run(ctx, cmd); err != nil {
			return Tarball{}, fmt.Errorf("building tool %s (%s) failed: %s: %w", a.Tool, s.Image, cmd, err)
		}
	}
	digest, err := imageref.ArchiveDigest(s.Tarball)
	if err != nil {
		return Tarball{}, fmt.Errorf("tool %s: %w", a.Tool, err)
	}
	if err := atomicfile.WriteContext(ctx, filepath.Join(opts.Dir, a.Tool+".digest"), []byte(digest+"\n"), 0o644); err != nil {
		return Tarball{}, err
	}
	if tb.Image, err = ParseBuilt(s.Image + "@" + digest); err != nil {
		return Tarball{}, fmt.Errorf("tool %s: %w", a.Tool, err)
	}
	fmt.Fprintf(opts.Progress, "%s -> %s\n", s.Tarball, tb.Image.Ref())
	return tb, nil
}

// PlatformArchive is one platform's image of a tool, as a docker-archive.
type PlatformArchive struct {
	Platform string
	Path     string
}

// platformTarballs builds a tool of several platforms: the executor once
// per platform (--custom-platform, a foreign one's RUN steps under QEMU),
// each to DIR/TOOL-OS-ARCH.tar; then DIR/TOOL, an OCI layout holding the
// index of those images, whose digest the record and TOOL.digest name.
func platformTarballs(ctx context.Context, p *builder.Plan, a *builder.Artifact, prof builder.Profile, tag string, opts TarballOptions) (Tarball, error) {
	name := a.Images[prof]
	image := name + ":" + tag
	tb := Tarball{Tool: a.Tool, ImageName: name, Path: filepath.Join(opts.Dir, a.Tool)}
	for _, pl := range a.Platforms {
		s := NewSpec(p, a, image, "")
		s.Platforms = []string{pl}
		s.Tarball = filepath.Join(opts.Dir, a.Tool+"-"+strings.ReplaceAll(pl, "/", "-")+".tar")
		cmds, err := Kaniko{Executor: opts.Executor}.Commands(s)
		if err != nil {
			return Tarball{}, err
		}
		tb.Commands = append(tb.Commands, cmds...)
		tb.Archives = append(tb.Archives, PlatformArchive{Platform: pl, Path: s.Tarball})
		if opts.DryRun {
			continue
		}
		fmt.Fprintf(opts.Progress, "building %s as %s for %s\n", a.Tool, image, pl)
		for _, cmd := range cmds {
			if err := opts.Run(ctx, cmd); err != nil {
				return Tarball{}, fmt.Errorf("building tool %s (%s) for %s failed: %s: %w", a.Tool, image, pl, cmd, err)
			}
		}
	}
	if opts.DryRun {
		return tb, nil
	}
	index, err := writeLayout(tb.Path, tag, tb.Archives)
	if err != nil {
		return Tarball{}, fmt.Errorf("tool %s: %w", a.Tool, err)
	}
	if err := atomicfile.WriteContext(ctx, filepath.Join(opts.Dir, a.Tool+".digest"), []byte(index.Digest+"\n"), 0o644); err != nil {
		return Tarball{}, err
	}
	if tb.Image, err = ParseBuilt(image + "@" + index.Digest); err != nil {
		return Tarball{}, fmt.Errorf("tool %s: %w", a.Tool, err)
	}
	tb.Image.Platforms = index.Platforms
	fmt.Fprintf(opts.Progress, "%s -> %s (%d platforms)\n", tb.Path, tb.Image.Ref(), len(index.Platforms))
	return tb, nil
}

// writeBuildJSON records the tarballs as the build output cwlpatch reads.
func writeBuildJSON(ctx context.Context, path string, tarballs []Tarball) error {
	out := &buildjson.Output{}
	for _, tb := range tarballs {
		out.Builds = append(out.Builds, buildjson.Build{ImageName: tb.ImageName, Tag: tb.Image.Ref()})
	}
	data, err := buildjson.Marshal(out)
	if err != nil {
		return err
	}
	return atomicfile.WriteContext(ctx, path, data, 0o644)
}
