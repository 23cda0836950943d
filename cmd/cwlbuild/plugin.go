package main

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/eoap/cwlbuild/build"
	"github.com/eoap/cwlbuild/builder"
	"github.com/eoap/cwlbuild/check"
	"github.com/eoap/cwlbuild/internal/agentapi"
	"github.com/eoap/cwlbuild/internal/trust"
)

func pluginCommand() *cli.Command {
	return &cli.Command{
		Name:      "plugin",
		Usage:     "build and push one image: Skaffold's custom builder (kaniko, buildah, podman or buildkit)",
		UsageText: "cwlbuild plugin --backend kaniko|buildah|podman|buildkit [--tool NAME -f project.toml] [--image IMAGE] [--context DIR]",
		Description: `Skaffold runs this as an artifact's custom.buildCommand, with IMAGE, PUSH_IMAGE,
BUILD_CONTEXT and PLATFORMS in the environment ("cwlbuild generate" writes that
command for [build.local] runtime = "buildah", "podman" or "buildkit"). With --tool
and -f, the tool's dockerfile, target and buildArgs and the [build.kaniko] options
apply.

kaniko runs the executor directly, as a CI job inside the executor's debug image
does (GitLab, Buildkite, Argo); buildah and podman build into local storage and
push, keeping a layer per step; buildkit sends the build to a buildkitd
(--buildkit-addr, else [build.local] buildkitAddress, else the one
scripts/buildkitd.sh starts), whose cache makes a code change a second's work.
kaniko --cluster runs one Kaniko pod per platform in the cluster, each on a node of
its architecture, and pushes the index of their images: "cwlbuild generate" writes
it for a tool of several platforms when [build.cluster] builder = "kaniko". Registries on loopback (localhost, 127.0.0.0/8) are reached over plain
HTTP, as Docker does; others only when listed in build.kaniko.insecureRegistries.

Examples:
   IMAGE=127.0.0.1:5000/crop:dev PUSH_IMAGE=true cwlbuild plugin --backend buildah --context tools/crop
   cwlbuild plugin --backend kaniko --tool crop -f project.toml     # inside gcr-style kaniko debug image
   cwlbuild plugin --backend podman --dry-run --image r/x:1 --context .
   BUILDKIT_HOST=tcp://127.0.0.1:1234 cwlbuild plugin --backend buildkit --tool crop -f project.toml
   cwlbuild plugin --backend buildkit --cache-repo 127.0.0.1:5000/cache --tool crop -f project.toml
   PLATFORMS=linux/amd64,linux/arm64 cwlbuild plugin --backend kaniko --cluster --tool crop -f project.toml`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "backend", Usage: "`kaniko`, buildah, podman or buildkit (default: [build.local] runtime when it is one of those, else kaniko)"},
			&cli.StringFlag{Name: "tool", Usage: "the project.toml tool being built, for its options"},
			&cli.StringFlag{Name: "file", Aliases: []string{"f"}, Usage: "project file holding --tool"},
			&cli.StringFlag{Name: "image", EnvVars: []string{"IMAGE"}, Usage: "image to build and push (Skaffold sets $IMAGE)"},
			&cli.StringFlag{Name: "context", EnvVars: []string{"BUILD_CONTEXT"}, Value: ".", Usage: "build context directory (Skaffold sets $BUILD_CONTEXT)"},
			&cli.StringFlag{Name: "push", EnvVars: []string{"PUSH_IMAGE"}, Value: "true", Usage: "push the image (Skaffold sets $PUSH_IMAGE)"},
			&cli.StringFlag{Name: "platforms", EnvVars: []string{"PLATFORMS"}, Usage: "comma-separated target platforms (Skaffold sets $PLATFORMS)"},
			&cli.StringFlag{Name: "executor", Usage: "program the backend runs (default: /kaniko/executor, buildah or podman)"},
			&cli.StringFlag{Name: "buildkit-addr", EnvVars: []string{"BUILDKIT_HOST"}, Usage: "the buildkitd the buildkit backend builds with, any address buildctl takes (default: [build.local] buildkitAddress, else " + build.DefaultBuildKitAddress + ")"},
			&cli.StringFlag{Name: "cache-repo", Usage: "buildkit: keep the build cache in `REPO` (tag buildkit-IMAGE-PATH, every step's layer), read before the build and written after, for a daemon that starts empty (a fresh pod, a CI runner)"},
			&cli.BoolFlag{Name: "cluster", Usage: "kaniko: build in Kaniko pods of [build.cluster] namespace, one per platform on a node of its architecture (or emulated where [build.cluster] emulation allows), through cwlbuild-calrissian, and push the index of their images (needs --tool and -f)"},
			&cli.StringFlag{Name: "profile", Value: "cluster", Usage: "with --cluster: the profile whose push secret the pods mount (cluster; ttl has none)"},
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
	spec, be, tool, err := pluginBuild(c)
	if err != nil {
		return err
	}
	if p := c.String("platforms"); p != "" {
		spec.Platforms = strings.Split(p, ",")
	}
	if tool != nil && len(spec.Platforms) > 1 && !c.Bool("dry-run") {
		// A base without one of the platforms would be built on all the
		// same, its binaries under that platform's name.
		failed := false
		for _, d := range check.ToolBasePlatforms(c.Context, tool.plan, tool.artifact, spec.Platforms) {
			if d.Severity == builder.SeverityError {
				failed = true
				fmt.Fprintln(c.App.ErrWriter, d)
			} else {
				fmt.Fprintln(c.App.ErrWriter, "warning:", d)
			}
		}
		if failed {
			return cli.Exit(fmt.Sprintf("cwlbuild plugin: tool %s is not built: a base image lacks a platform it is built for", tool.artifact.Tool), 1)
		}
	}
	spec.DigestFile = c.String("digest-file")
	if bk, ok := be.(build.BuildKit); ok {
		if why := trust.OS.Untrusted(); why != "" {
			// Its RUN steps' results must not reach a trusted build's
			// cache: a daemon of its own, and the registry cache read only.
			addr, moved := build.UntrustedAddress(bk.Address)
			be = build.BuildKit{Address: addr}
			spec.CacheReadOnly = true
			if moved {
				fmt.Fprintf(c.App.ErrWriter, "cwlbuild plugin: an untrusted build (%s): buildkitd at %s, not the namespace's shared one; the registry cache is read, not written\n", why, addr)
			}
		}
	}
	if repo := c.String("cache-repo"); repo != "" {
		if be.Name() != string(builder.RuntimeBuildKit) {
			return cli.Exit("cwlbuild plugin: --cache-repo is the buildkit backend's registry cache; "+be.Name()+" has none", 2)
		}
		spec.CacheRepo = repo
	}
	if c.Bool("dry-run") {
		cmds, err := be.Commands(spec)
		if err != nil {
			return cli.Exit("cwlbuild plugin: "+err.Error(), 2)
		}
		for _, cmd := range cmds {
			fmt.Fprintln(c.App.Writer, cmd)
		}
		return nil
	}
	label := spec.Image
	if tool := c.String("tool"); tool != "" {
		label = "tool " + tool + " (" + spec.Image + ")"
	}
	if err := build.Image(c.Context, spec, be, build.ImageOptions{Stdout: c.App.Writer, Stderr: c.App.ErrWriter, Label: label}); err != nil {
		return cli.Exit("cwlbuild plugin: "+err.Error(), 1)
	}
	return nil
}

// pluginTool is the project tool a plugin build is of.
type pluginTool struct {
	plan     *builder.Plan
	artifact *builder.Artifact
}

// pluginBuild is the build the flags describe: a tool's, with its options
// from project.toml, or a bare context with its Dockerfile; and the backend
// to run it with. With --tool, the image and context default to the tool's
// own (the default profile's image, tagged [project] version or latest).
func pluginBuild(c *cli.Context) (*build.Spec, build.Backend, *pluginTool, error) {
	tool, file, image := c.String("tool"), c.String("file"), c.String("image")
	if tool != "" && file == "" {
		return nil, nil, nil, cli.Exit("cwlbuild plugin: --tool needs -f project.toml", 2)
	}
	if image == "" && tool == "" {
		return nil, nil, nil, cli.Exit("cwlbuild plugin: no image to build: Skaffold sets $IMAGE; outside Skaffold give --image, or --tool with -f", 2)
	}
	ctxDir, err := filepath.Abs(c.String("context"))
	if err != nil {
		return nil, nil, nil, err
	}
	if file == "" {
		be, err := chooseBackend(c, nil)
		return &build.Spec{Image: image, Context: ctxDir, Dockerfile: builder.DefaultDockerfile}, be, nil, err
	}
	plan, err := loadProject(c, file, buildChecks)
	if err != nil {
		return nil, nil, nil, cli.Exit(err.Error(), 1)
	}
	a, err := plan.Artifact(tool)
	if err != nil {
		return nil, nil, nil, cli.Exit("cwlbuild plugin: "+err.Error(), 1)
	}
	if image == "" {
		image = plan.DefaultImage(a)
	}
	if !c.IsSet("context") {
		ctxDir = ""
	}
	spec := build.NewSpec(plan, a, image, ctxDir)
	if c.Bool("cluster") {
		be, err := kanikoPods(c, plan, spec)
		return spec, be, &pluginTool{plan, a}, err
	}
	be, err := chooseBackend(c, plan)
	return spec, be, &pluginTool{plan, a}, err
}

// kanikoPods is the kaniko backend in the cluster's pods (--cluster): the
// cluster profile's namespace, account, executor, init image, resources,
// timeout, push secret and layer cache, as Skaffold's Kaniko pods have
// them.
func kanikoPods(c *cli.Context, plan *builder.Plan, spec *build.Spec) (build.Backend, error) {
	if name := c.String("backend"); name != "" && name != string(builder.RuntimeKaniko) {
		return nil, cli.Exit("cwlbuild plugin: --cluster runs Kaniko pods; --backend "+name+" is not kaniko", 2)
	}
	if c.IsSet("executor") {
		return nil, cli.Exit("cwlbuild plugin: --executor names a program here; with --cluster the pods run [build.kaniko] image", 2)
	}
	prof := builder.Profile(c.String("profile"))
	if prof != builder.ProfileCluster && prof != builder.ProfileTTL {
		return nil, cli.Exit(fmt.Sprintf("cwlbuild plugin: --profile %q: must be cluster or ttl", prof), 2)
	}
	if prof == builder.ProfileCluster {
		spec.Kaniko.Cache = plan.ClusterCache()
	}
	pods := agentapi.KanikoBuild{
		Namespace:      plan.Cluster.Namespace,
		ServiceAccount: plan.Cluster.ServiceAccount,
		Secret:         plan.PushSecret(prof),
		ExecutorImage:  plan.Kaniko.Image,
		InitImage:      plan.Kaniko.InitImage,
		Emulation:      plan.Cluster.Emulation,
	}
	if pods.InitImage == "" {
		pods.InitImage = builder.SkaffoldInitImage
	}
	if r := plan.Cluster.Resources; r != nil {
		pods.Requests, pods.Limits = r.Requests.Map(), r.Limits.Map()
	}
	if t := plan.Cluster.Timeout; t != "" {
		d, err := time.ParseDuration(t)
		if err != nil {
			return nil, cli.Exit(fmt.Sprintf("cwlbuild plugin: [build.cluster] timeout %q: %v", t, err), 2)
		}
		pods.Timeout = agentapi.Duration(d)
	}
	return build.KanikoPods{Pods: pods}, nil
}

// chooseBackend is --backend when given, else the one [build.local]
// runtime names, else kaniko (no project, or Skaffold's own docker
// builder); running --executor when given; for buildkit, reaching the
// daemon the user names (--buildkit-addr, $BUILDKIT_HOST), else the
// package's.
func chooseBackend(c *cli.Context, plan *builder.Plan) (build.Backend, error) {
	name := c.String("backend")
	if name == "" {
		name = "kaniko"
		if plan != nil {
			if rb, ok := plan.Runtime.Backend(); ok {
				name = rb
			}
		}
	}
	program := c.String("executor")
	if name == string(builder.RuntimeBuildKit) {
		if program != "" {
			return nil, cli.Exit("cwlbuild plugin: --executor names a program; the buildkit backend runs none: name its daemon with --buildkit-addr", 2)
		}
		program = c.String("buildkit-addr")
		if program == "" && plan != nil {
			program = plan.Local.BuildKitAddress
		}
		if program == "" {
			program = build.DefaultBuildKitAddress
		}
	}
	be, err := build.ParseBackend(name, program)
	if err != nil {
		return nil, cli.Exit("cwlbuild plugin: "+err.Error(), 2)
	}
	return be, nil
}
