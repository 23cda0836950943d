package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/eoap/cwlbuild/builder"
	"github.com/eoap/cwlbuild/internal/genfile"
	"github.com/eoap/cwlbuild/internal/textdiff"
	"github.com/eoap/cwlbuild/skaffold"
)

func generateCommand() *cli.Command {
	return &cli.Command{
		Name:      "generate",
		Usage:     "write the Skaffold config (skaffold-auto.yaml) for project.toml",
		UsageText: "cwlbuild generate [-f project.toml] [-o skaffold-auto.yaml|-] [--check]",
		Description: `Writes one Skaffold artifact per tool, in project.toml order. The default build
section follows [build] engine; profiles cluster, local and ttl are always there.

Examples:
   cwlbuild generate
   cwlbuild generate -f pkg/project.toml -o -
   cwlbuild generate --check              # CI: exit 1 if skaffold-auto.yaml is stale
   skaffold build -p ttl -f skaffold-auto.yaml`,
		Flags: []cli.Flag{
			projectFlag(),
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "output file, `-` for stdout (default: skaffold-auto.yaml next to project.toml)"},
			&cli.BoolFlag{Name: "check", Usage: "write nothing; exit 1 and print a diff if the output file is out of date"},
			&cli.StringFlag{Name: "plugin-command", Value: "cwlbuild", Usage: "program Skaffold's custom builder runs for podman/buildah builds"},
		},
		Action: runGenerate,
	}
}

func runGenerate(c *cli.Context) error {
	proj, err := loadProject(c, c.String("file"), buildChecks)
	if err != nil {
		return cli.Exit(err.Error(), 1)
	}
	out, baseDir, err := outputPaths(proj, c.String("output"))
	if err != nil {
		return err
	}
	gen, err := skaffold.GenerateAll(proj, skaffold.Options{BaseDir: baseDir, PluginCommand: c.String("plugin-command"), AllowOutsidePaths: allowOutside(c)})
	if err != nil {
		return cli.Exit(fmt.Sprintf("%s: %v", proj.File, err), 1)
	}
	for _, w := range gen.Warnings {
		fmt.Fprintf(c.App.ErrWriter, "warning: %s\n", w)
	}
	if out == "-" {
		_, err := c.App.Writer.Write(gen.Config)
		return err
	}
	files := generatedFiles(out, gen)
	if c.Bool("check") {
		return checkGenerated(c, files, gen.Stale)
	}
	if err := genfile.WriteAll(c.Context, files); err != nil {
		return cli.Exit(err.Error(), 1)
	}
	fmt.Fprintf(c.App.ErrWriter, "wrote %s: %d artifacts, default build %s, profiles cluster, local, ttl\n",
		out, len(proj.Artifacts), proj.DefaultProfile())
	for _, l := range gen.Dockerfiles {
		fmt.Fprintf(c.App.ErrWriter, "wrote %s: tool %s's Dockerfile with base images through the registry map, for Skaffold's cluster builder\n", l.Path, l.Tool)
	}
	return removeStale(c, gen.Stale)
}

// removeStale removes the derived Dockerfiles no artifact names any more,
// once the new config that stopped naming them is in place.
func removeStale(c *cli.Context, stale []skaffold.StaleDockerfile) error {
	for _, s := range stale {
		if err := os.Remove(s.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return cli.Exit(err.Error(), 1)
		}
		fmt.Fprintf(c.App.ErrWriter, "removed %s: no artifact builds from it any more\n", s.Path)
	}
	return nil
}

// generatedFiles lists what generate writes: the config, then each derived
// Dockerfile, each under the root no link may be crossed below (see
// internal/genfile): the config's directory, the tool's context.
func generatedFiles(out string, gen *skaffold.Generated) []genfile.File {
	files := []genfile.File{{Root: filepath.Dir(out), Path: out, Data: gen.Config}}
	for _, l := range gen.Dockerfiles {
		files = append(files, genfile.File{Root: l.Context, Path: l.Path, Data: l.Data, Ours: skaffold.GeneratedLookup})
	}
	return files
}

// checkGenerated is --check: each file on disk must be exactly what
// generate would write, and no derived Dockerfile generate would remove may
// be left; otherwise the diffs and exit 1. Files are read as generate writes
// them: never through a symlink.
func checkGenerated(c *cli.Context, files []genfile.File, leftover []skaffold.StaleDockerfile) error {
	stale := len(leftover)
	for _, l := range leftover {
		fmt.Fprint(c.App.Writer, textdiff.Unified(l.Data, nil, l.Path, "/dev/null"))
	}
	for _, f := range files {
		old, err := genfile.Read(f.Root, f.Path)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return cli.Exit(err.Error(), 1)
		}
		if err == nil && f.Ours != nil && !f.Ours(old) {
			fmt.Fprintln(c.App.Writer, genfile.Foreign(f.Path))
			stale++
			continue
		}
		if !bytes.Equal(old, f.Data) {
			fmt.Fprint(c.App.Writer, textdiff.Unified(old, f.Data, f.Path, f.Path+" (generated)"))
			stale++
		}
	}
	if stale > 0 {
		return cli.Exit(fmt.Sprintf("%d generated file(s) out of date: run `cwlbuild generate`", stale), 1)
	}
	fmt.Fprintf(c.App.Writer, "%s is up to date\n", files[0].Path)
	return nil
}

// outputPaths is the file generate writes (skaffold-auto.yaml beside
// project.toml unless -o says otherwise; "-" is stdout) and the directory
// Skaffold will resolve the artifact contexts against.
func outputPaths(proj *builder.Plan, out string) (string, string, error) {
	if out == "" {
		out = filepath.Join(filepath.Dir(proj.File), skaffold.DefaultFile)
	}
	if out == "-" {
		return out, proj.Dir, nil
	}
	abs, err := filepath.Abs(out)
	if err != nil {
		return "", "", err
	}
	return out, filepath.Dir(abs), nil
}
