package build

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/eoap/cwlbuild/builder"
	"github.com/eoap/cwlbuild/internal/imageref"
	"github.com/eoap/cwlbuild/internal/shell"
)

// Backend is what builds one image: the commands that build it and, unless
// it writes a tarball, push it. Kaniko, Buildah and Podman are the ones
// cwlbuild runs; a test, or another program, may bring its own.
type Backend interface {
	Name() string
	Commands(s *Spec) ([]Command, error)
}

// Kaniko builds with the Kaniko executor, as a CI job inside the
// executor's debug image runs it. Executor is its path ("" is
// DefaultExecutor).
type Kaniko struct{ Executor string }

// Buildah builds with `buildah bud --isolation chroot --layers` into local
// storage, then pushes; Program is the buildah to run ("" is buildah on
// PATH).
type Buildah struct{ Program string }

// Podman builds with `podman build --layers` into local storage, then pushes;
// Program is the podman to run ("" is podman on PATH).
type Podman struct{ Program string }

// backends make each Backend cwlbuild runs, by name, running a program
// (for buildkit, reaching a daemon; "" is the backend's default): one per builder.Runtimes entry but docker
// (TestBackendPerRuntime).
var backends = map[string]func(program string) Backend{
	"kaniko":   func(p string) Backend { return Kaniko{Executor: p} },
	"buildah":  func(p string) Backend { return Buildah{Program: p} },
	"podman":   func(p string) Backend { return Podman{Program: p} },
	"buildkit": func(addr string) Backend { return BuildKit{Address: addr} },
}

// BackendNames are the backends ParseBackend knows, in builder.Runtimes'
// order, for messages and flag help.
func BackendNames() []string {
	var names []string
	for _, r := range builder.Runtimes {
		if name, ok := r.Backend(); ok && backends[name] != nil {
			names = append(names, name)
		}
	}
	return names
}

// ParseBackend is the backend of a name (one of BackendNames), running
// program ("" is the backend's default).
func ParseBackend(name, program string) (Backend, error) {
	if newBackend := backends[name]; newBackend != nil {
		return newBackend(program), nil
	}
	return nil, fmt.Errorf("backend %q: must be %s", name, builder.OneOf(BackendNames()))
}

// Name is "kaniko".
func (Kaniko) Name() string { return "kaniko" }

// Name is "buildah".
func (Buildah) Name() string { return "buildah" }

// Name is "podman".
func (Podman) Name() string { return "podman" }

// Commands is the executor's one run: build, and push unless s.Tarball.
func (k Kaniko) Commands(s *Spec) ([]Command, error) {
	if len(s.Platforms) > 1 {
		// Kaniko builds one platform per run; building only the first
		// would publish a single-platform image under a multi-platform
		// request.
		return nil, fmt.Errorf("kaniko builds one platform per run, and %d were asked for (%s): build each platform on its own, or use the buildah or podman backend", len(s.Platforms), strings.Join(s.Platforms, ","))
	}
	executor := k.Executor
	if executor == "" {
		executor = DefaultExecutor
	}
	return []Command{s.kanikoArgs(executor)}, nil
}

// Commands is a build into local storage, then a push.
func (b Buildah) Commands(s *Spec) ([]Command, error) {
	return s.daemonless("buildah", b.Program)
}

// Commands is a build into local storage, then a push.
func (p Podman) Commands(s *Spec) ([]Command, error) {
	return s.daemonless("podman", p.Program)
}

// DefaultExecutor is where the Kaniko images keep the executor.
const DefaultExecutor = "/kaniko/executor"

// Spec is one image to build, as Skaffold's custom builder describes it
// (IMAGE, BUILD_CONTEXT, PLATFORMS) plus the tool's options from
// project.toml (NewSpec).
type Spec struct {
	Image      string // destination, repo:tag
	Context    string // build context directory
	Dockerfile string // relative to Context
	Target     string
	BuildArgs  map[string]string
	Platforms  []string
	Kaniko     builder.ExecutorOptions
	// Insecure lists registries reached over plain HTTP besides loopback ones.
	Insecure []string
	// Labels are set on the image config (--label).
	Labels map[string]string
	// Timestamp, when set, makes the build reproducible: Kaniko's
	// --reproducible (no timestamps at all), buildah's and podman's
	// --timestamp (this Unix time for the image and every file);
	// BuildKit's SOURCE_DATE_EPOCH (the image's and its history's times).
	Timestamp *int64
	// RewriteTimestamps makes BuildKit rewrite every file time of every
	// layer above the base to Timestamp at each export (rewrite-timestamp),
	// so that a daemon with an empty cache makes the same digest; a pass
	// over every layer, even the cached ones (docs/performance.md).
	// Without it, a layer a RUN step wrote carries its build's times, and a
	// digest holds as long as the daemon's cache does.
	RewriteTimestamps bool
	// CacheRepo, when set, is a repository BuildKit keeps this image's
	// build cache in (type=registry, mode=max: every step's layer, the
	// RUN steps' too): read before the build, written after it. It stands
	// in for a daemon's own state where the daemon starts empty (a fresh
	// pod, a CI runner).
	CacheRepo string
	// CacheReadOnly reads the registry cache and writes nothing back: an
	// untrusted build's step results must not reach trusted builds.
	CacheReadOnly bool
	// Tarball, when set, makes Kaniko write the image there instead of
	// pushing it (Tarballs).
	Tarball string
	// DigestFile, when set, receives the digest of the image built.
	DigestFile string
}

// Command is one program run, as an argv: never a shell string. Its
// String is shell-quoted, so that it can be pasted.
type Command = shell.Command

// kanikoArgs is the executor's argv, as a CI job inside the executor's debug
// image would run it.
func (b *Spec) kanikoArgs(executor string) Command {
	k := b.Kaniko
	c := Command{executor,
		"--context", "dir://" + b.Context,
		"--dockerfile", path.Join(b.Context, b.Dockerfile),
		"--destination", b.Image,
	}
	c = append(c, b.stageFlags()...)
	if b.Timestamp != nil {
		c = append(c, "--reproducible")
	}
	if len(b.Platforms) == 1 {
		c = append(c, "--custom-platform", b.Platforms[0])
	}
	if k.Cache != nil {
		c = append(c, "--cache=true")
		if k.Cache.Repo != "" {
			c = append(c, "--cache-repo", k.Cache.Repo)
		}
		if k.Cache.TTL != "" {
			c = append(c, "--cache-ttl", k.Cache.TTL)
		}
		if k.Cache.RunLayers != nil {
			c = append(c, fmt.Sprintf("--cache-run-layers=%t", *k.Cache.RunLayers))
		}
		if k.Cache.CopyLayers {
			c = append(c, "--cache-copy-layers")
		}
	}
	for _, m := range k.RegistryMirrors {
		c = append(c, "--registry-mirror", m)
	}
	for _, from := range slices.Sorted(maps.Keys(k.RegistryMap)) {
		// One flag per target: Kaniko tries a source's targets in turn.
		for _, to := range k.RegistryMap[from] {
			c = append(c, "--registry-map", from+"="+to)
		}
	}
	if k.SnapshotMode != "" {
		c = append(c, "--snapshot-mode", k.SnapshotMode)
	}
	if k.UseNewRun {
		c = append(c, "--use-new-run")
	}
	if k.SingleSnapshot {
		c = append(c, "--single-snapshot")
	}
	if k.CompressedCaching != nil {
		c = append(c, fmt.Sprintf("--compressed-caching=%t", *k.CompressedCaching))
	}
	for _, r := range b.insecureHosts() {
		c = append(c, "--insecure-registry", r)
	}
	if b.Tarball != "" {
		// --no-push still pushes cache layers unless told not to.
		c = append(c, "--no-push", "--no-push-cache", "--tar-path", b.Tarball)
	}
	if b.DigestFile != "" {
		c = append(c, "--digest-file", b.DigestFile)
	}
	return c
}

// daemonless builds with buildah or podman into local storage, then pushes.
func (b *Spec) daemonless(backend, program string) ([]Command, error) {
	if b.Tarball != "" {
		return nil, fmt.Errorf("tarballs are built with kaniko, not %s", backend)
	}
	if program == "" {
		program = backend
	}
	build := Command{program}
	if backend == "buildah" {
		// chroot isolation runs RUN steps without a user namespace, as
		// buildah must inside CI containers.
		build = append(build, "bud", "--isolation", "chroot")
	} else {
		build = append(build, "build")
	}
	// A layer per step, kept in local storage: a code change reuses the
	// heavy steps above it (seconds, not the whole build again), and the
	// image is the same whether the cache was warm or empty (buildah's
	// default is one layer for every step, rebuilt each time).
	build = append(build, "--layers")
	// Several platforms are built, each in turn, into a manifest list of
	// local storage, which is pushed with its images and removed. The
	// list's name is new for each build: images added to an existing list
	// would join the entries of an earlier build.
	list := ""
	if len(b.Platforms) > 1 {
		list = manifestListName(b.Image)
		build = append(build, "-f", path.Join(b.Context, b.Dockerfile), "--manifest", list)
	} else {
		build = append(build, "-f", path.Join(b.Context, b.Dockerfile), "-t", b.Image)
	}
	build = append(build, b.stageFlags()...)
	if b.Timestamp != nil {
		build = append(build, "--timestamp", strconv.FormatInt(*b.Timestamp, 10))
	}
	if len(b.Platforms) > 0 {
		build = append(build, "--platform", strings.Join(b.Platforms, ","))
	}
	if b.pullsOnlyInsecure() {
		build = append(build, "--tls-verify=false")
	}
	build = append(build, b.Context)
	push := Command{program, "push"}
	if list != "" {
		push = Command{program, "manifest", "push", "--all", "--rm"}
	}
	if imageref.IsInsecure(b.Image, b.Insecure) {
		push = append(push, "--tls-verify=false")
	}
	if b.DigestFile != "" {
		push = append(push, "--digestfile", b.DigestFile)
	}
	if list != "" {
		push = append(push, list, "docker://"+b.Image)
	} else {
		push = append(push, b.Image, "docker://"+b.Image)
	}
	return []Command{build, push}, nil
}

// manifestListName is a name of local storage no other build uses, for
// the manifest list of a build of image.
func manifestListName(image string) string {
	var nonce [6]byte
	rand.Read(nonce[:])
	sum := sha256.Sum256([]byte(image))
	return "localhost/cwlbuild-list/" + hex.EncodeToString(sum[:6]) + "-" + hex.EncodeToString(nonce[:])
}

// insecureHosts are the registries Kaniko must reach over plain HTTP: the
// listed ones, plus every loopback registry the build touches (destination,
// cache repo, mirrors, map targets), as Docker treats loopback registries.
func (b *Spec) insecureHosts() []string {
	set := map[string]bool{}
	for _, r := range b.Insecure {
		set[r] = true
	}
	cands := []string{imageref.Host(b.Image)}
	if b.Kaniko.Cache != nil && b.Kaniko.Cache.Repo != "" {
		cands = append(cands, imageref.Host(b.Kaniko.Cache.Repo))
	}
	for _, m := range b.Kaniko.RegistryMirrors {
		cands = append(cands, imageref.RegistryHost(m))
	}
	for _, to := range b.Kaniko.RegistryMap {
		for _, t := range to {
			cands = append(cands, imageref.RegistryHost(t))
		}
	}
	for _, h := range cands {
		if imageref.IsLoopback(h) {
			set[h] = true
		}
	}
	out := make([]string, 0, len(set))
	for h := range set {
		out = append(out, h)
	}
	sort.Strings(out)
	return out
}

// stageFlags are the flags every backend spells alike: the target stage,
// build args and labels, in a stable order.
func (b *Spec) stageFlags() []string {
	var out []string
	if b.Target != "" {
		out = append(out, "--target", b.Target)
	}
	for _, kv := range sortedPairs(b.BuildArgs) {
		out = append(out, "--build-arg", kv)
	}
	for _, kv := range sortedPairs(b.Labels) {
		out = append(out, "--label", kv)
	}
	return out
}

func sortedPairs(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}
