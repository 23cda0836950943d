package check

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/eoap/cwlbuild/builder"
	"github.com/eoap/cwlbuild/internal/registry/remote"
	"github.com/eoap/cwlbuild/skaffold"
)

// BasePlatforms checks, for every tool built for several platforms, that
// each base image of its Dockerfile has an image for each: a base that
// lacks one is built on all the same, its binaries under the other
// platform's name, and the index would send a runner of that platform an
// image it cannot run. An error per base and missing platform, at the FROM
// line; a warning when no registry holding the base answers. A stage whose
// FROM names its own --platform is built for that one and not checked.
// The registries are asked with the Docker config's logins.
func BasePlatforms(ctx context.Context, p *builder.Plan) []builder.Diagnostic {
	var out []builder.Diagnostic
	seen := map[string][]string{} // base as pulled -> its platforms
	for _, a := range p.Artifacts {
		out = append(out, toolBasePlatforms(ctx, p, a, a.Platforms, seen)...)
	}
	return out
}

// ToolBasePlatforms is BasePlatforms for one tool built for plats: what
// `cwlbuild plugin` checks before a build for several platforms.
func ToolBasePlatforms(ctx context.Context, p *builder.Plan, a *builder.Artifact, plats []string) []builder.Diagnostic {
	return toolBasePlatforms(ctx, p, a, plats, map[string][]string{})
}

func toolBasePlatforms(ctx context.Context, p *builder.Plan, a *builder.Artifact, plats []string, seen map[string][]string) []builder.Diagnostic {
	if len(plats) < 2 {
		return nil
	}
	bases, err := skaffold.BaseImages(p, a.Tool)
	if err != nil {
		return []builder.Diagnostic{{Severity: builder.SeverityError, Key: a.Key, Message: err.Error()}}
	}
	file := filepath.Join(a.Context, filepath.FromSlash(a.Dockerfile))
	if rel, err := filepath.Rel(p.Dir, file); err == nil {
		file = rel
	}
	var out []builder.Diagnostic
	for _, b := range bases {
		if b.Platform != "" {
			continue
		}
		has, from, err := basePlatforms(ctx, p, b, seen)
		if err != nil {
			out = append(out, builder.Diagnostic{File: file, Line: b.Line, Severity: builder.SeverityWarning,
				Message: fmt.Sprintf("base image %s: cannot tell its platforms (tool %s is built for %s): %v", b.Name, a.Tool, strings.Join(plats, ", "), err)})
			continue
		}
		for _, want := range plats {
			if norm, err := builder.NormalizePlatform(want); err == nil {
				want = norm
			}
			if !slices.Contains(has, want) {
				out = append(out, builder.Diagnostic{File: file, Line: b.Line, Severity: builder.SeverityError, Key: a.Key,
					Message: fmt.Sprintf("base image %s%s has no %s image (it has %s), and tool %s is built for %s: its binaries would be built into the %s image", b.Name, pulledAs(from, b.Name), want, strings.Join(has, ", "), a.Tool, want, want)})
			}
		}
	}
	return out
}

func pulledAs(from, name string) string {
	if from == name {
		return ""
	}
	return " (pulled as " + from + ")"
}

// basePlatforms are the platforms of the first of b's pull names whose
// registry answers, normalized, and that name.
func basePlatforms(ctx context.Context, p *builder.Plan, b skaffold.BaseImage, seen map[string][]string) ([]string, string, error) {
	var firstErr error
	for _, from := range b.Pull {
		if has, ok := seen[from]; ok {
			return has, from, nil
		}
		has, err := imagePlatforms(ctx, from, p.Kaniko.Insecure)
		if err == nil {
			seen[from] = has
			return has, from, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return nil, "", firstErr
}

// imagePlatforms are the platforms of ref's index, or of its one image,
// normalized.
func imagePlatforms(ctx context.Context, ref string, insecure []string) ([]string, error) {
	plats, err := remote.Platforms(ctx, ref, insecure)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, s := range plats {
		if norm, err := builder.NormalizePlatform(s); err == nil && !slices.Contains(out, norm) {
			out = append(out, norm)
		}
	}
	return out, nil
}
