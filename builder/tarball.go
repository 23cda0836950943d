package builder

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/eoap/cwlbuild/internal/atomicfile"
	"github.com/eoap/cwlbuild/internal/backend"
	"github.com/eoap/cwlbuild/internal/imageref"
)

// TarballOptions tune BuildTarballs.
type TarballOptions struct {
	// Profile names the registry the images are named for; "" is the one
	// [build] engine selects.
	Profile Profile
	// Tag is the image tag; "" is [project] version, else "latest".
	Tag string
	// Tools are the tools to build, by name; none is every tool.
	Tools []string
	// Dir receives TOOL.tar and TOOL.digest.
	Dir string
	// Executor is the Kaniko executor's path ("" is backend.DefaultExecutor).
	Executor string
	// Run runs one command: the caller streams its output and passes
	// signals on. With DryRun it is given each command instead, to print.
	Run    func(ctx context.Context, cmd backend.Command) error
	DryRun bool
	// Progress receives a line as each tool's build starts and ends.
	Progress io.Writer
}

// Tarball is one image built to a tarball, and the digest it will have once
// pushed with `skopeo copy --preserve-digests`.
type Tarball struct {
	Tool      string
	ImageName string // registry/path, no tag
	Path      string // the tarball
	Ref       string // ImageName:TAG@sha256:...
}

// BuildTarballs builds each tool's image with Kaniko into a tarball, pushing
// nothing, in project.toml order, and writes TOOL.digest beside each. Every
// tool name and image reference is checked before the first build, so a bad
// tag does not surface after minutes of building.
func BuildTarballs(ctx context.Context, p *Plan, opts TarballOptions) ([]Tarball, error) {
	prof := opts.Profile
	if prof == "" {
		prof = p.DefaultProfile()
	} else if _, err := ParseProfile(string(prof)); err != nil {
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
	if !opts.DryRun {
		if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
			return nil, err
		}
	}
	if opts.Progress == nil {
		opts.Progress = io.Discard
	}
	var out []Tarball
	for _, a := range arts {
		tb, err := p.buildTarball(ctx, a, prof, tag, opts)
		if err != nil {
			return out, err
		}
		if !opts.DryRun {
			out = append(out, tb)
		}
	}
	return out, nil
}

func (p *Plan) buildTarball(ctx context.Context, a *Artifact, prof Profile, tag string, opts TarballOptions) (Tarball, error) {
	name := a.Images[prof]
	b := p.ImageBuild(a, name+":"+tag, "")
	b.Tarball = filepath.Join(opts.Dir, a.Tool+".tar")
	cmds, err := b.Commands(backend.Kaniko, opts.Executor)
	if err != nil {
		return Tarball{}, err
	}
	fmt.Fprintf(opts.Progress, "building %s as %s\n", a.Tool, b.Image)
	for _, cmd := range cmds {
		if err := opts.Run(ctx, cmd); err != nil {
			return Tarball{}, fmt.Errorf("building tool %s (%s) failed: %s: %w", a.Tool, b.Image, cmd, err)
		}
	}
	if opts.DryRun {
		return Tarball{}, nil
	}
	digest, err := imageref.ArchiveDigest(b.Tarball)
	if err != nil {
		return Tarball{}, fmt.Errorf("tool %s: %w", a.Tool, err)
	}
	if err := atomicfile.WriteContext(ctx, filepath.Join(opts.Dir, a.Tool+".digest"), []byte(digest+"\n"), 0o644); err != nil {
		return Tarball{}, err
	}
	ref := b.Image + "@" + digest
	if _, err := imageref.Parse(ref); err != nil {
		return Tarball{}, fmt.Errorf("tool %s: %w", a.Tool, err)
	}
	fmt.Fprintf(opts.Progress, "%s -> %s\n", b.Tarball, ref)
	return Tarball{Tool: a.Tool, ImageName: name, Path: b.Tarball, Ref: ref}, nil
}
