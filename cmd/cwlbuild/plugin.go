package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/eoap/cwlbuild/builder"
	"github.com/eoap/cwlbuild/internal/backend"
	"github.com/eoap/cwlbuild/internal/cliapp"
	"github.com/eoap/cwlbuild/internal/filelock"
)

func pluginCommand() *cli.Command {
	return &cli.Command{
		Name:      "plugin",
		Usage:     "build and push one image: Skaffold's custom builder (kaniko, buildah or podman)",
		UsageText: "cwlbuild plugin --backend kaniko|buildah|podman [--tool NAME -f project.toml] [--image IMAGE] [--context DIR]",
		Description: `Skaffold runs this as an artifact's custom.buildCommand, with IMAGE, PUSH_IMAGE,
BUILD_CONTEXT and PLATFORMS in the environment ("cwlbuild generate" writes that
command for [build.local] runtime = "buildah" or "podman"). With --tool and -f, the
tool's dockerfile, target and buildArgs and the [build.kaniko] options apply.

kaniko runs the executor directly, as a CI job inside the executor's debug image
does (GitLab, Buildkite, Argo); buildah and podman build into local storage and
push. Registries on loopback (localhost, 127.0.0.0/8) are reached over plain
HTTP, as Docker does; others only when listed in build.kaniko.insecureRegistries.

Examples:
   IMAGE=127.0.0.1:5000/crop:dev PUSH_IMAGE=true cwlbuild plugin --backend buildah --context tools/crop
   cwlbuild plugin --backend kaniko --tool crop -f project.toml     # inside gcr-style kaniko debug image
   cwlbuild plugin --backend podman --dry-run --image r/x:1 --context .`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "backend", Usage: "`kaniko`, buildah or podman (default: [build.local] runtime when it is buildah or podman, else kaniko)"},
			&cli.StringFlag{Name: "tool", Usage: "the project.toml tool being built, for its options"},
			&cli.StringFlag{Name: "file", Aliases: []string{"f"}, Usage: "project file holding --tool"},
			&cli.StringFlag{Name: "image", EnvVars: []string{"IMAGE"}, Usage: "image to build and push (Skaffold sets $IMAGE)"},
			&cli.StringFlag{Name: "context", EnvVars: []string{"BUILD_CONTEXT"}, Value: ".", Usage: "build context directory (Skaffold sets $BUILD_CONTEXT)"},
			&cli.StringFlag{Name: "push", EnvVars: []string{"PUSH_IMAGE"}, Value: "true", Usage: "push the image (Skaffold sets $PUSH_IMAGE)"},
			&cli.StringFlag{Name: "platforms", EnvVars: []string{"PLATFORMS"}, Usage: "comma-separated target platforms (Skaffold sets $PLATFORMS)"},
			&cli.StringFlag{Name: "executor", Usage: "program the backend runs (default: /kaniko/executor, buildah or podman)"},
			&cli.StringFlag{Name: "digest-file", Usage: "write the pushed image's digest to `FILE`"},
			&cli.BoolFlag{Name: "dry-run", Usage: "print the commands, shell-quoted; run nothing"},
		},
		Action: runPlugin,
	}
}

func runPlugin(c *cli.Context) error {
	push, err := strconv.ParseBool(c.String("push"))
	if err != nil {
		return cli.Exit(fmt.Sprintf("cwlbuild plugin: PUSH_IMAGE=%q is not true or false", c.String("push")), 2)
	}
	if !push {
		return cli.Exit(`cwlbuild plugin: Skaffold asked for a build without push (PUSH_IMAGE=false), but
kaniko, buildah and podman builds have no Docker daemon in which Skaffold could find
the image: it reads the digest from the registry. Build with "skaffold build --push"
or set build.local.push: true (cwlbuild generate does, unless [build.local] push = false).`, 2)
	}
	b, be, err := pluginBuild(c)
	if err != nil {
		return err
	}
	if be == backend.Kaniko && !c.Bool("dry-run") {
		unlock, err := kanikoLock()
		if err != nil {
			return err
		}
		defer unlock()
	}
	if p := c.String("platforms"); p != "" {
		b.Platforms = strings.Split(p, ",")
	}
	b.DigestFile = c.String("digest-file")
	cmds, err := b.Commands(be, c.String("executor"))
	if err != nil {
		return cli.Exit("cwlbuild plugin: "+err.Error(), 2)
	}
	label := b.Image
	if tool := c.String("tool"); tool != "" {
		label = "tool " + tool + " (" + b.Image + ")"
	}
	return runCommands(c, cmds, label, c.Bool("dry-run"))
}

// pluginBuild is the build the flags describe: a tool's, with its options
// from project.toml, or a bare context with its Dockerfile; and the backend
// to run it with. With --tool, the image and context default to the tool's
// own (the default profile's image, tagged [project] version or latest).
func pluginBuild(c *cli.Context) (*backend.Build, backend.Name, error) {
	tool, file, image := c.String("tool"), c.String("file"), c.String("image")
	if tool != "" && file == "" {
		return nil, "", cli.Exit("cwlbuild plugin: --tool needs -f project.toml", 2)
	}
	if image == "" && tool == "" {
		return nil, "", cli.Exit("cwlbuild plugin: no image to build: Skaffold sets $IMAGE; outside Skaffold give --image, or --tool with -f", 2)
	}
	be, err := flagBackend(c)
	if err != nil {
		return nil, "", err
	}
	ctxDir, err := filepath.Abs(c.String("context"))
	if err != nil {
		return nil, "", err
	}
	if file == "" {
		return &backend.Build{Image: image, Context: ctxDir, Dockerfile: builder.DefaultDockerfile}, chooseBackend(be, nil), nil
	}
	plan, err := loadProject(c, file, buildChecks)
	if err != nil {
		return nil, "", cli.Exit(err.Error(), 1)
	}
	a, err := plan.Artifact(tool)
	if err != nil {
		return nil, "", cli.Exit("cwlbuild plugin: "+err.Error(), 1)
	}
	if image == "" {
		image = plan.DefaultImage(a)
	}
	if !c.IsSet("context") {
		ctxDir = ""
	}
	return plan.ImageBuild(a, image, ctxDir), chooseBackend(be, plan), nil
}

// flagBackend is --backend, "" when not given.
func flagBackend(c *cli.Context) (backend.Name, error) {
	s := c.String("backend")
	if s == "" {
		return "", nil
	}
	be, err := backend.ParseName(s)
	if err != nil {
		return "", cli.Exit("cwlbuild plugin: "+err.Error(), 2)
	}
	return be, nil
}

// chooseBackend is --backend when given, else the one [build.local] runtime
// names, else kaniko (no project, or Skaffold's own docker builder).
func chooseBackend(flag backend.Name, plan *builder.Plan) backend.Name {
	if flag != "" {
		return flag
	}
	if plan != nil {
		if rb, ok := plan.Runtime.Backend(); ok {
			return rb
		}
	}
	return backend.Kaniko
}

// kanikoLock makes sure one Kaniko executor runs at a time here: the
// executor rewrites the root filesystem of the container it runs in, so two
// at once (a CI job's parallel builds in the Kaniko image) corrupt each
// other's images.
func kanikoLock() (func(), error) {
	dir := os.TempDir()
	if fi, err := os.Stat("/kaniko"); err == nil && fi.IsDir() {
		dir = "/kaniko"
	}
	unlock, err := filelock.TryLock(filepath.Join(dir, ".cwlbuild-kaniko.lock"))
	if errors.Is(err, filelock.ErrBusy) {
		return nil, cli.Exit("cwlbuild plugin: another Kaniko build is running in this container; Kaniko builds one image at a time per container (run Skaffold with concurrency 1, as cwlbuild generate writes for the kaniko runtime)", 1)
	}
	if err != nil {
		return nil, cli.Exit("cwlbuild plugin: "+err.Error(), 1)
	}
	return unlock, nil
}

// runCommands runs each command in turn, its output streaming through. On a
// failure the last line says which build and which command failed.
func runCommands(c *cli.Context, cmds []backend.Command, label string, dryRun bool) error {
	for _, cmd := range cmds {
		if dryRun {
			fmt.Fprintln(c.App.Writer, cmd.String())
			continue
		}
		if err := runStreaming(c.Context, cmd, c.App.Writer, c.App.ErrWriter); err != nil {
			if c.Context.Err() != nil {
				err = context.Cause(c.Context)
			}
			return cli.Exit(fmt.Sprintf("cwlbuild: building %s failed: %s: %v", label, cmd.String(), err), 1)
		}
	}
	return nil
}

// runStreaming runs cmd; on a signal the build tool gets the same one and
// time to stop (buildah and podman clean up their containers), then it is
// killed.
func runStreaming(ctx context.Context, cmd backend.Command, stdout, stderr io.Writer) error {
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	x := exec.CommandContext(ctx, cmd[0], cmd[1:]...)
	cliapp.PassSignals(ctx, x)
	x.Stdin = nil
	x.Stdout, x.Stderr = stdout, stderr
	x.Env = os.Environ()
	return x.Run()
}
