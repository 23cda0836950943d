// Package sbom is the release's SBOM stage: each image's SBOM, made by the
// cwlbuild-sbom agent (Anchore's syft) from the image its registry serves
// by digest, attached to that digest as an OCI 1.1 referrer. syft runs in a
// program of its own: linked into cwlbuild it would slow every start by
// about 30 ms.
package sbom

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/eoap/cwlbuild/build"
	"github.com/eoap/cwlbuild/internal/cliapp"
	"github.com/eoap/cwlbuild/internal/imageref"
	"github.com/eoap/cwlbuild/internal/registry/remote"
	"github.com/eoap/cwlbuild/internal/sbomformat"
)

// Agent is the program that makes SBOMs.
const Agent = "cwlbuild-sbom"

// FindAgent finds the agent beside this executable (a release archive,
// .bin), else on PATH.
func FindAgent() (string, error) {
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), Agent)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p, nil
		}
	}
	p, err := exec.LookPath(Agent)
	if err != nil {
		return "", fmt.Errorf("%s is not installed (beside cwlbuild or on PATH): go install github.com/eoap/cwlbuild/cmd/%s@latest, or set [release] sbom = \"none\"", Agent, Agent)
	}
	return p, nil
}

// Request is one run of the agent.
type Request struct {
	Format   string // spdx or cyclonedx
	Output   string // also write each SBOM into this directory
	NoAttach bool
	Insecure []string
	// Inputs are IMAGE@DIGEST references, docker-archive:PATH[:IMAGE@DIGEST]
	// tarballs or dir:PATH directories.
	Inputs []string
}

// Run runs the agent on req, its output to stdout and stderr. An output
// directory in the package (dir) is written through no link the package
// holds. The agent prints its own errors; the error returned says only
// that it failed, or that it is not installed.
func Run(ctx context.Context, dir string, req Request, stdout, stderr io.Writer) error {
	prog, err := FindAgent()
	if err != nil {
		return err
	}
	args := []string{"--format", req.Format}
	if d := req.Output; d != "" {
		args = append(args, "--output", d)
		if abs, err := filepath.Abs(d); err == nil {
			if rel, err := filepath.Rel(dir, abs); err == nil && filepath.IsLocal(rel) {
				args = append(args, "--root", dir)
			}
		}
	}
	if req.NoAttach {
		args = append(args, "--no-attach")
	}
	for _, h := range req.Insecure {
		args = append(args, "--insecure-registry", h)
	}
	cmd := exec.CommandContext(ctx, prog, append(append(args, "--"), req.Inputs...)...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cliapp.PassSignals(ctx, cmd)
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s failed (%v)", Agent, err)
	}
	return nil
}

// Options are Images' choices.
type Options struct {
	Format   string // spdx or cyclonedx
	Output   string // also write each SBOM into this directory
	NoAttach bool   // attach nothing (with Output)
	// Force makes an SBOM even where one of the format is attached.
	Force    bool
	Insecure []string
	Out, Log io.Writer // the agent's output, and notes (nil: none)
}

// Validate says what is wrong with opts, naming the flag.
func (o Options) Validate() error {
	if _, err := sbomformat.MediaType(o.Format); err != nil {
		return fmt.Errorf("--format: %v", err)
	}
	if o.NoAttach && o.Output == "" {
		return fmt.Errorf("--no-attach without --output would keep nothing")
	}
	return nil
}

// Images makes and attaches the SBOM of each image, skipping, and saying
// so, those that already have one of the format unless opts.Force (an
// image's bytes never change under its digest). dir is the package's
// directory.
func Images(ctx context.Context, dir string, images []build.Built, opts Options) error {
	if err := opts.Validate(); err != nil {
		return err
	}
	refs := make([]string, 0, len(images))
	for _, b := range images {
		// Only images of a registry: the agent reads these prefixes as
		// local paths, which a build output never names.
		ref := b.Ref()
		if strings.HasPrefix(ref, "docker-archive:") || strings.HasPrefix(ref, "dir:") {
			return fmt.Errorf("%q: want REPOSITORY[:TAG]@sha256:DIGEST", ref)
		}
		refs = append(refs, ref)
	}
	if !opts.Force && !opts.NoAttach && opts.Output == "" {
		if refs = withoutSBOM(ctx, refs, opts); len(refs) == 0 {
			return nil
		}
	}
	return Run(ctx, dir, Request{Format: opts.Format, Output: opts.Output, NoAttach: opts.NoAttach, Insecure: opts.Insecure, Inputs: refs}, opts.Out, opts.Log)
}

// withoutSBOM drops the images that already have an SBOM of the format
// attached, saying so; an image whose registry cannot tell is kept (making
// its SBOM will name the fault).
func withoutSBOM(ctx context.Context, refs []string, opts Options) []string {
	mediaType, _ := sbomformat.MediaType(opts.Format)
	log := opts.Log
	if log == nil {
		log = io.Discard
	}
	var keep []string
	seen := map[string]bool{}
	for _, ref := range refs {
		r, _ := imageref.Parse(ref)
		byDigest := r.Repo + "@" + r.Digest
		if seen[byDigest] {
			continue
		}
		seen[byDigest] = true
		if ok, err := remote.HasReferrer(ctx, r.Repo, r.Digest, []string{mediaType}, opts.Insecure); err == nil && ok {
			fmt.Fprintf(log, "cwlbuild sbom: %s already has a %s SBOM (--force makes it again)\n", byDigest, opts.Format)
			continue
		}
		keep = append(keep, ref)
	}
	return keep
}
