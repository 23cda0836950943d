package main

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/eoap/cwlbuild/build"
	"github.com/eoap/cwlbuild/builder"
	"github.com/eoap/cwlbuild/release/sbom"
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
before the tarballs are pushed. Each tarball's SBOM ([release] sbom, made by
cwlbuild-sbom from the tarball) is written beside it as DIR/TOOL.spdx.json (or
.cyclonedx.json); attach it once pushed with "cwlbuild sbom IMAGE@DIGEST". Run it
where the executor lives (inside the Kaniko image).

A tool of several platforms ([build] platforms) is built once per platform, with
--custom-platform (a foreign platform's RUN steps under QEMU), to DIR/TOOL-linux-arm64.tar
and so on, each with its SBOM; DIR/TOOL is an OCI layout holding the index of those images,
tagged TAG, whose digest build.json names: push it with "skopeo copy --all
--preserve-digests oci:DIR/TOOL:TAG docker://REPO:TAG".

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
			&cli.StringFlag{Name: "executor", Value: build.DefaultExecutor, Usage: "Kaniko executor `PATH`"},
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
	dir, err := filepath.Abs(c.String("output"))
	if err != nil {
		return err
	}
	opts := build.TarballOptions{
		Profile: builder.Profile(c.String("profile")), Tag: c.String("tag"), Tools: c.StringSlice("tool"),
		Dir: dir, Executor: c.String("executor"), DryRun: c.Bool("dry-run"),
		Run:      build.Exec(c.App.Writer, c.App.ErrWriter),
		Progress: prefixed{c.App.ErrWriter, "cwlbuild tar: "},
	}
	// The SBOM agent is looked for before minutes of building, not after
	// (and after the checks of the input, which name a bad tag or tool).
	makeSBOM := proj.SBOM != "none" && !c.Bool("dry-run")
	if _, err := sbom.FindAgent(); makeSBOM && err != nil {
		check := opts
		check.DryRun = true
		if _, err := build.Tarballs(c.Context, proj, check); err != nil {
			return cli.Exit("cwlbuild tar: "+err.Error(), 1)
		}
		return cli.Exit(fmt.Sprintf("cwlbuild tar: %s is not installed (beside cwlbuild or on PATH): it writes each tarball's SBOM; install it, or set [release] sbom = \"none\"", sbom.Agent), 1)
	}
	tarballs, err := build.Tarballs(c.Context, proj, opts)
	if err != nil {
		return cli.Exit("cwlbuild tar: "+err.Error(), 1)
	}
	if c.Bool("dry-run") {
		for _, tb := range tarballs {
			for _, cmd := range tb.Commands {
				fmt.Fprintln(c.App.Writer, cmd)
			}
		}
		return nil
	}
	if makeSBOM {
		var archives []string
		for _, tb := range tarballs {
			if len(tb.Archives) == 0 {
				archives = append(archives, "docker-archive:"+tb.Path+":"+tb.Image.Ref())
				continue
			}
			// An SBOM per platform image, named after its archive.
			for i, ar := range tb.Archives {
				img := build.Built{Repo: tb.Image.Repo, Tag: tb.Image.Tag, Digest: tb.Image.Platforms[i].Digest}
				archives = append(archives, "docker-archive:"+ar.Path+":"+img.Ref())
			}
		}
		fmt.Fprintf(c.App.ErrWriter, "cwlbuild tar: the tarballs' SBOMs (%s) beside them\n", proj.SBOM)
		if err := sbom.Run(c.Context, proj.Dir, sbom.Request{Format: proj.SBOM, Output: dir, NoAttach: true, Inputs: archives}, c.App.Writer, c.App.ErrWriter); err != nil {
			return cli.Exit("cwlbuild tar: "+err.Error(), 1)
		}
	}
	fmt.Fprintf(c.App.ErrWriter, "cwlbuild tar: wrote %s (%d builds)\n", filepath.Join(dir, "build.json"), len(tarballs))
	return nil
}

// prefixed writes each line with a prefix: progress lines that say which
// command printed them.
type prefixed struct {
	w      io.Writer
	prefix string
}

func (p prefixed) Write(b []byte) (int, error) {
	if _, err := io.WriteString(p.w, p.prefix); err != nil {
		return 0, err
	}
	return p.w.Write(b)
}
