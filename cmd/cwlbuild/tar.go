package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/eoap/cwlbuild/builder"
	"github.com/eoap/cwlbuild/internal/atomicfile"
	"github.com/eoap/cwlbuild/internal/imageref"
	"github.com/eoap/cwlbuild/skaffold/buildjson"
)

func tarCommand() *cli.Command {
	return &cli.Command{
		Name:      "tar",
		Usage:     "build each tool's image to a tarball with Kaniko, pushing nothing",
		UsageText: "cwlbuild tar [-f project.toml] [--tool NAME]... [-o DIR] [--profile cluster|local|ttl] [--tag TAG]",
		Description: `Runs the Kaniko executor once per tool with --no-push --no-push-cache
--tar-path DIR/TOOL.tar --destination IMAGE: the build-then-push-separately flow
of release pipelines (Argo, GitLab). It writes DIR/TOOL.digest and DIR/build.json
(Skaffold's build output format) with the digest the image will have once pushed
with "skopeo copy --preserve-digests", so "cwlpatch DIR/build.json" pins the CWL
before the tarballs are pushed. Run it where the executor lives (inside the
Kaniko image).

Examples:
   cwlbuild tar -o out                          # every tool, tag = [project] version
   cwlbuild tar --tool crop --tag 1.2.0 -o out
   cwlpatch out/build.json
   skopeo copy --preserve-digests docker-archive:out/crop.tar docker://ghcr.io/eoap/crop:1.2.0`,
		Flags: []cli.Flag{
			projectFlag(),
			&cli.StringSliceFlag{Name: "tool", Usage: "build only `NAME` (repeatable; default: every tool)"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Value: "tarballs", Usage: "`DIR` for TOOL.tar, TOOL.digest and build.json"},
			&cli.StringFlag{Name: "profile", Usage: "registry the image names use: cluster, local or ttl (default: [build] engine)"},
			&cli.StringFlag{Name: "tag", Usage: "image tag (default: [project] version, else latest)"},
			&cli.StringFlag{Name: "executor", Value: builder.DefaultExecutor, Usage: "Kaniko executor `PATH`"},
			&cli.BoolFlag{Name: "dry-run", Usage: "print the executor commands; run nothing"},
		},
		Action: runTar,
	}
}

func runTar(c *cli.Context) error {
	proj, err := loadProject(c, c.String("file"), buildChecks)
	if err != nil {
		return cli.Exit(err.Error(), 1)
	}
	prof := proj.DefaultProfile()
	if s := c.String("profile"); s != "" {
		prof = builder.Profile(s)
		if !validProfile(prof) {
			return cli.Exit(fmt.Sprintf("cwlbuild tar: --profile %q: want cluster, local or ttl", s), 2)
		}
	}
	tag := c.String("tag")
	if tag == "" {
		tag = proj.Project.Version
	}
	if tag == "" {
		tag = "latest"
	}
	tools := proj.OrderedTools()
	if names := c.StringSlice("tool"); len(names) > 0 {
		tools = nil
		for _, n := range names {
			t, ok := proj.Tools[n]
			if !ok {
				return cli.Exit(fmt.Sprintf("cwlbuild tar: %s has no tool %q (tools: %s)", proj.File, n, strings.Join(proj.ToolOrder, ", ")), 1)
			}
			tools = append(tools, t)
		}
	}
	// Every image reference is checked before the first build: a bad tag
	// must not surface after minutes of building.
	for _, t := range tools {
		if _, err := imageref.Parse(proj.ImageName(t, prof) + ":" + tag); err != nil {
			return cli.Exit(fmt.Sprintf("cwlbuild tar: tool %s: %v", t.Name, err), 1)
		}
	}
	dir, err := filepath.Abs(c.String("output"))
	if err != nil {
		return err
	}
	if !c.Bool("dry-run") {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return cli.Exit(err.Error(), 1)
		}
	}
	out := &buildjson.Output{}
	for _, t := range tools {
		name := proj.ImageName(t, prof)
		b := proj.ImageBuildFor(t, name+":"+tag, "")
		b.Tarball = filepath.Join(dir, t.Name+".tar")
		cmds, err := b.Commands(builder.BackendKaniko, c.String("executor"))
		if err != nil {
			return cli.Exit(err.Error(), 1)
		}
		fmt.Fprintf(c.App.ErrWriter, "cwlbuild tar: building %s as %s\n", t.Name, b.Image)
		if err := runCommands(c, cmds, "tool "+t.Name, c.Bool("dry-run")); err != nil {
			return err
		}
		if c.Bool("dry-run") {
			continue
		}
		digest, err := builder.ArchiveDigest(b.Tarball)
		if err != nil {
			return cli.Exit(fmt.Sprintf("cwlbuild tar: tool %s: %v", t.Name, err), 1)
		}
		if err := atomicfile.WriteContext(c.Context, filepath.Join(dir, t.Name+".digest"), []byte(digest+"\n"), 0o644); err != nil {
			return cli.Exit(err.Error(), 1)
		}
		ref := b.Image + "@" + digest
		if _, err := imageref.Parse(ref); err != nil {
			return cli.Exit(fmt.Sprintf("cwlbuild tar: tool %s: %v", t.Name, err), 1)
		}
		out.Builds = append(out.Builds, buildjson.Build{ImageName: name, Tag: ref})
		fmt.Fprintf(c.App.ErrWriter, "cwlbuild tar: %s -> %s\n", b.Tarball, ref)
	}
	if c.Bool("dry-run") {
		return nil
	}
	data, err := buildjson.Marshal(out)
	if err != nil {
		return err
	}
	record := filepath.Join(dir, "build.json")
	if err := atomicfile.WriteContext(c.Context, record, data, 0o644); err != nil {
		return cli.Exit(err.Error(), 1)
	}
	fmt.Fprintf(c.App.ErrWriter, "cwlbuild tar: wrote %s (%d builds)\n", record, len(out.Builds))
	return nil
}

func validProfile(p builder.Profile) bool {
	for _, q := range builder.Profiles {
		if p == q {
			return true
		}
	}
	return false
}
