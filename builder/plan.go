package builder

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/eoap/cwlbuild/internal/gitinfo"
	"github.com/eoap/cwlbuild/internal/imageref"
	"github.com/eoap/cwlbuild/internal/scrub"
)

// Profile names a build target. Every generated Skaffold config has all three
// so `skaffold build -p ttl` works without regenerating.
type Profile string

const (
	ProfileCluster Profile = "cluster"
	ProfileLocal   Profile = "local"
	ProfileTTL     Profile = "ttl"
)

// Profiles lists the profiles in the order they are rendered.
var Profiles = []Profile{ProfileCluster, ProfileLocal, ProfileTTL}

// ParseProfile accepts a profile's name.
func ParseProfile(s string) (Profile, error) {
	for _, p := range Profiles {
		if string(p) == s {
			return p, nil
		}
	}
	return "", fmt.Errorf("profile %q: want cluster, local or ttl", s)
}

// Engine is [build] engine: where images are built by default.
type Engine string

const (
	// EngineCluster builds in Kubernetes, with Skaffold's Kaniko pods.
	EngineCluster Engine = "cluster"
	// EngineLocal builds on this machine with [build.local] runtime.
	EngineLocal Engine = "local"
)

// Runtime is [build.local] runtime: what builds images on this machine.
type Runtime string

const (
	// RuntimeDocker is Skaffold's own docker builder (a Docker API).
	RuntimeDocker Runtime = "docker"
	// The others run `cwlbuild plugin --backend RUNTIME` as Skaffold's
	// custom builder; kaniko is for CI jobs inside the executor image.
	RuntimePodman  Runtime = "podman"
	RuntimeBuildah Runtime = "buildah"
	RuntimeKaniko  Runtime = "kaniko"
	// RuntimeBuildKit sends each build to a buildkitd through BuildKit's
	// Go client: its layer cache survives between builds, so a code
	// change rebuilds in about a second.
	RuntimeBuildKit Runtime = "buildkit"
)

// Runtimes are the [build.local] runtimes, in the order messages list
// them: the one list that load, validation, generate and build read. Every
// one but docker is the build.Backend of the same name (build's tests
// check), so a new runtime is an entry here and a backend there.
var Runtimes = []Runtime{RuntimeDocker, RuntimePodman, RuntimeBuildah, RuntimeBuildKit, RuntimeKaniko}

// Backend is the name of the `cwlbuild plugin` backend a runtime builds
// with (build.ParseBackend), and false for docker, which Skaffold drives
// itself, and for a name that is no runtime.
func (r Runtime) Backend() (string, bool) {
	if r == RuntimeDocker || !slices.Contains(Runtimes, r) {
		return "", false
	}
	return string(r), true
}

// PinMode says how cwlpatch writes a built image into dockerPull.
type PinMode string

const (
	// PinTagDigest writes repo:tag@sha256:..., the tag kept for people and
	// the digest for engines; a "latest" tag says nothing and is dropped.
	PinTagDigest PinMode = "tag+digest"
	// PinDigest writes repo@sha256:....
	PinDigest PinMode = "digest"
)

// ParsePinMode accepts the values of --pin.
func ParsePinMode(s string) (PinMode, error) {
	switch PinMode(s) {
	case PinTagDigest, PinDigest:
		return PinMode(s), nil
	}
	return "", fmt.Errorf("--pin %q: want %q or %q", s, PinTagDigest, PinDigest)
}

// Plan is a project resolved once: every default applied, every name typed,
// every path absolute. The Skaffold renderer, the backends, cwlpatch and the
// test runner read it and nothing else of project.toml, so a default or a
// naming rule lives in one place.
type Plan struct {
	Name        string
	Version     string
	Description string
	// Repository is [project] repository: the source URL releases record.
	Repository string
	// File is project.toml as the user named it (errors name it); Dir is
	// its absolute directory.
	File string
	Dir  string

	Engine  Engine
	Runtime Runtime
	// Reproducible builds carry no build time: one context, one digest.
	Reproducible bool
	// SBOM is [release] sbom: "spdx", "cyclonedx" or "none".
	SBOM string
	// ExternalImages is [release] externalImages.
	ExternalImages []string
	// Timestamp is the time reproducible images carry (seconds since 1970):
	// SOURCE_DATE_EPOCH when Load read it, else 0; nil when [build]
	// reproducible = false.
	Timestamp *int64
	// AllowOutsidePaths is the load option: paths may leave the package
	// directory. Stages that follow references on their own (cwlpatch
	// through `run:` and `$import`) apply the same rule.
	AllowOutsidePaths bool
	// Revision is the commit of the project's git work tree (HEAD), read
	// once: revision labels, VERSION-COMMIT tags, provenance; "" outside
	// one. GitRemote is its "origin" remote, without credentials.
	Revision  string
	GitRemote string
	// Registries is each profile's registry (host and optional path, no
	// trailing '/'); "" when the profile has none.
	Registries map[Profile]string
	Local      LocalPlan
	Cluster    ClusterPlan
	Kaniko     KanikoPlan
	// TTLDuration is how long the ttl registry keeps an image: its tag.
	TTLDuration string
	// Pin is how cwlpatch writes pins; commands may override it.
	Pin PinMode

	Artifacts []*Artifact
	Workflows []*WorkflowRef
	// Tests are the CWL tests project.toml declares, resolved: tool tests
	// in project.toml order, then workflow tests.
	Tests []*TestPlan
	// Warnings are problems that did not stop the load.
	Warnings []Diagnostic

	// realDir is Dir with symlinks resolved, read by Load (Inside).
	realDir string
	// pos is project.toml's key to line index: the plan is self-contained,
	// with no way back to the raw project (nil for a plan built by hand).
	pos *positions
}

// LocalPlan is how builds on this machine run.
type LocalPlan struct {
	// Push sends each image to its registry: cwlpatch needs the digest a
	// registry reports.
	Push bool
	// Concurrency is how many images Skaffold builds at once (0: all); nil
	// keeps Skaffold's own default.
	Concurrency *int
	// BuildKitAddress is [build.local] buildkitAddress: the buildkitd the
	// buildkit runtime builds with ("" is $BUILDKIT_HOST, else the
	// daemon scripts/buildkitd.sh starts).
	BuildKitAddress string
}

// ClusterPlan is where and how Kaniko pods run.
type ClusterPlan struct {
	Namespace      string
	ServiceAccount string
	// Secret is a kubernetes.io/dockerconfigjson secret in Namespace that
	// the pods mount to push; "" for none.
	Secret      string
	Concurrency int
	Timeout     string
	Resources   *Resources
	// Preflight is [build.cluster] preflight.
	Preflight bool
	// Builder is [build.cluster] builder.
	Builder ClusterBuilder
	// BuildKitCache is [build.cluster] buildkitCache.
	BuildKitCache BuildKitCache
	// Emulation is [build.cluster] emulation.
	Emulation bool
}

// ClusterBuilder is [build.cluster] builder: what builds in the cluster.
type ClusterBuilder string

const (
	// ClusterKaniko is Skaffold's cluster builder: a Kaniko pod per image.
	ClusterKaniko ClusterBuilder = "kaniko"
	// ClusterBuildKit sends each build to the namespace's buildkitd
	// StatefulSet (BuildKitPod), whose state survives between builds.
	ClusterBuildKit ClusterBuilder = "buildkit"
)

// ClusterBuilders are the [build.cluster] builders, in the order messages
// list them.
var ClusterBuilders = []ClusterBuilder{ClusterKaniko, ClusterBuildKit}

// BuildKitCache is [build.cluster] buildkitCache: where the buildkit
// cluster builder's cache lives.
type BuildKitCache string

const (
	// BuildKitCacheDaemon is the daemon's own state: nothing leaves it.
	BuildKitCacheDaemon BuildKitCache = "daemon"
	// BuildKitCacheRegistry is a registry cache (type=registry,
	// mode=max), read and written by every build.
	BuildKitCacheRegistry BuildKitCache = "registry"
)

// BuildKitCaches are the [build.cluster] buildkitCache values.
var BuildKitCaches = []BuildKitCache{BuildKitCacheDaemon, BuildKitCacheRegistry}

// BuildKitCacheRepo is the repository the buildkit cluster builder keeps
// its registry cache in: [build.kaniko.cache] repo when written, else the
// cluster profile's REGISTRY/cache; "" unless buildkitCache = "registry".
func (p *Plan) BuildKitCacheRepo() string {
	if p.Cluster.BuildKitCache != BuildKitCacheRegistry {
		return ""
	}
	if c := p.Kaniko.Options.Cache; c != nil && c.Repo != "" {
		return c.Repo
	}
	if reg := p.Registries[ProfileCluster]; reg != "" {
		return reg + "/cache"
	}
	return ""
}

// BuildKitPod is the pod of the buildkitd StatefulSet (named buildkitd,
// one replica) that the buildkit cluster builder builds with.
const BuildKitPod = "buildkitd-0"

// BuildKitUntrustedPod is the pod of the second StatefulSet
// (buildkitd-untrusted) that builds of untrusted changes (a fork's pull
// request) go to instead of BuildKitPod: they share no cache with trusted
// builds, which would otherwise reuse a RUN step's result such a build
// wrote.
const BuildKitUntrustedPod = "buildkitd-untrusted-0"

// BuildKitAddress is the address `cwlbuild plugin` reaches the cluster's
// buildkitd at: its pod in the build namespace ("" is the kubeconfig's),
// through the API server (buildctl dial-stdio run in the pod).
func (c ClusterPlan) BuildKitAddress() string {
	addr := "kube-pod://" + BuildKitPod
	if c.Namespace != "" {
		addr += "?namespace=" + c.Namespace
	}
	return addr
}

// ExecutorOptions are the Kaniko executor's options from [build.kaniko],
// the same for every image of a project: what `cwlbuild plugin --backend
// kaniko` and `cwlbuild tar` pass the executor, and Skaffold's cluster
// builder its pods.
type ExecutorOptions struct {
	Cache           *KanikoCache
	RegistryMirrors []string
	// RegistryMap is [build.kaniko] registryMap parsed once: for each
	// registry (no trailing '/'), the registries Kaniko tries instead, in
	// order ("a;b" in project.toml).
	RegistryMap       map[string][]string
	SnapshotMode      string
	UseNewRun         bool
	SingleSnapshot    bool
	CompressedCaching *bool
}

// PullFrom names img on the registry Kaniko pulls it from instead, and
// reports whether it does: the registry map's first target for img's
// registry, else, for a Docker Hub image, the first mirror. Kaniko would
// try the other targets in turn; the engines that are told one image per
// base (the lookup Dockerfiles, BuildKit's named contexts) take the first.
func (k ExecutorOptions) PullFrom(img string) (string, bool) {
	host := imageref.Host(img)
	if imageref.IsDockerHub(host) {
		host = imageref.DockerHub
	}
	to := ""
	if targets, ok := k.RegistryMap[host]; ok {
		to = targets[0]
	} else if host == imageref.DockerHub {
		for _, from := range slices.Sorted(maps.Keys(k.RegistryMap)) {
			if imageref.IsDockerHub(from) {
				to = k.RegistryMap[from][0]
				break
			}
		}
	}
	if to == "" && host == imageref.DockerHub && len(k.RegistryMirrors) > 0 {
		to = k.RegistryMirrors[0]
	}
	if to == "" {
		return "", false
	}
	// The path as the original registry knows it: Docker Hub's official
	// images under library/.
	norm := img
	if host == imageref.DockerHub {
		norm = imageref.Normalize(img)
	}
	return to + "/" + strings.TrimPrefix(norm, host+"/"), true
}

// parseRegistryMap splits each "a;b" of [build.kaniko] registryMap into its
// registries, trailing '/' dropped, keys too; validate refuses an empty one.
func parseRegistryMap(m map[string]string) map[string][]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string][]string, len(m))
	for from, to := range m {
		out[strings.TrimSuffix(from, "/")] = trimSlashes(strings.Split(to, ";"))
	}
	return out
}

// trimSlashes is each registry without its trailing '/' and surrounding
// blanks.
func trimSlashes(regs []string) []string {
	var out []string
	for _, r := range regs {
		out = append(out, strings.TrimSuffix(strings.TrimSpace(r), "/"))
	}
	return out
}

// KanikoPlan is how Kaniko builds, in the cluster and in
// `cwlbuild plugin --backend kaniko` alike.
type KanikoPlan struct {
	// Image is the executor image of the cluster's pods.
	Image string
	// InitImage is the pods' init container image; "" is Skaffold's own.
	InitImage string
	Options   ExecutorOptions
	// Insecure lists registries reached over plain HTTP (besides the
	// loopback ones, always).
	Insecure []string
	// CacheOff is [build.kaniko.cache] enabled = false: no layer cache,
	// not even the cluster's default one.
	CacheOff bool
	// PodsReproducible is Kaniko's --reproducible in the cluster's pods:
	// [build] reproducible when project.toml sets it, else false (its cost
	// there is measured in docs/performance.md).
	PodsReproducible bool
}

// DefaultCacheTTL is how long the cluster's Kaniko pods use a cached layer
// when [build.kaniko.cache] ttl is not set: Kaniko's own default, written
// out so the generated config says it.
const DefaultCacheTTL = "336h"

// ClusterCache is the layer cache of the cluster's Kaniko pods. It is on by
// default whenever the cluster profile has a registry: a one-tool code
// change then reuses every RUN layer of the images instead of running it
// again (docs/performance.md has the figures). Its repository defaults to
// REGISTRY/cache, one repository for all the tools (Kaniko's keys are
// digests of the instruction and everything before it, so tools share
// only identical layers). nil when [build.kaniko.cache] enabled = false,
// or when no registry is known and no table is written.
func (p *Plan) ClusterCache() *KanikoCache {
	if p.Kaniko.CacheOff {
		return nil
	}
	explicit := p.Kaniko.Options.Cache
	reg := p.Registries[ProfileCluster]
	if explicit == nil && reg == "" {
		return nil
	}
	c := KanikoCache{}
	if explicit != nil {
		c = *explicit
	}
	if c.Repo == "" && reg != "" {
		c.Repo = reg + "/cache"
	}
	if c.TTL == "" {
		c.TTL = DefaultCacheTTL
	}
	return &c
}

// Artifact is one tool's image build and the processes that run the image.
type Artifact struct {
	Tool string
	// Key is the tool's table in project.toml ("tools.crop"), for errors.
	Key string
	// Context is the absolute build context directory.
	Context string
	// Dockerfile is relative to Context, slash-separated.
	Dockerfile string
	Target     string
	BuildArgs  map[string]string
	// Images is the image name (no tag) under each profile.
	Images map[Profile]string
	// Platforms are the platforms the image is built for, normalized
	// ("linux/arm64"); nil is the builder's own. More than one makes the
	// image an index.
	Platforms []string
	// Processes are the CWL processes its path names; cwlpatch pins them
	// and their copies in every workflow.
	Processes []ProcessRef
}

// ProcessRef is one "FILE#ID" of a tool's path.
type ProcessRef struct {
	// Ref is as project.toml writes it; File is its file part as written
	// (messages name it) and Path that file made absolute.
	Ref  string
	File string
	Path string
	// ID is the part after '#', "" for a file that is the process.
	ID string
	// Key is where project.toml writes it ("tools.crop.path",
	// "tools.crop.path.1").
	Key string
}

// WorkflowRef is one [[workflows]] entry: its path ("workflows.0.path").
// Its tests are in Plan.Tests.
type WorkflowRef struct {
	ProcessRef
}

// Load reads, validates and resolves project.toml in one step, with what
// the package's git work tree says and the time reproducible images carry
// (SOURCE_DATE_EPOCH): NewPlan itself reads no file.
func Load(file string, opts LoadOptions) (*Plan, error) {
	p, err := LoadProjectWith(file, opts)
	if err != nil {
		return nil, err
	}
	plan := NewPlan(p)
	git := gitinfo.Read(p.Dir)
	plan.Revision, plan.GitRemote = git.Revision, git.Remote
	plan.realDir = p.realDir()
	t, err := sourceDateEpoch()
	if err != nil {
		return nil, err
	}
	if t != nil && plan.Reproducible {
		plan.Timestamp = t
	}
	return plan, nil
}

// LoadContext is Load that returns as soon as ctx ends (a signal), with its
// cause, however far the load has got: decoding and validating a large
// project.toml cannot be interrupted midway, and the user asked to stop.
func LoadContext(ctx context.Context, file string, opts LoadOptions) (*Plan, error) {
	type result struct {
		p   *Plan
		err error
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("%s: interrupted while loading, before any file was replaced: %w", file, context.Cause(ctx))
	}
	done := make(chan result, 1)
	go func() {
		p, err := Load(file, opts)
		done <- result{p, err}
	}()
	select {
	case r := <-done:
		return r.p, r.err
	case <-ctx.Done():
		return nil, fmt.Errorf("%s: interrupted while loading, before any file was replaced: %w", file, context.Cause(ctx))
	}
}

// NewPlan resolves a validated project.
func NewPlan(p *Project) *Plan {
	p.applyDefaults() // a no-op for a loaded project; a hand-built one gets them too
	b := &p.Build
	plan := &Plan{
		Name:           p.Project.Name,
		Version:        p.Project.Version,
		Description:    p.Project.Description,
		Repository:     scrub.URL(p.Project.Repository),
		File:           p.File,
		Dir:            p.Dir,
		Engine:         b.Engine,
		Runtime:        b.Local.Runtime,
		SBOM:           p.Release.SBOM,
		ExternalImages: p.Release.ExternalImages,
		Registries:     map[Profile]string{},
		Cluster: ClusterPlan{
			Namespace:      b.Cluster.Namespace,
			ServiceAccount: b.Cluster.ServiceAccount,
			Secret:         b.Cluster.Secret,
			Preflight:      b.Cluster.Preflight,
			Builder:        b.Cluster.Builder,
			BuildKitCache:  b.Cluster.BuildKitCache,
			Emulation:      b.Cluster.Emulation,
			Timeout:        b.Kaniko.Timeout,
			Resources:      b.Kaniko.Resources,
		},
		Kaniko: KanikoPlan{
			Image:            b.Kaniko.Image,
			InitImage:        b.Kaniko.InitImage,
			Options:          kanikoOptions(&b.Kaniko),
			Insecure:         trimSlashes(b.Kaniko.InsecureRegistries),
			CacheOff:         b.Kaniko.Cache.off(),
			PodsReproducible: b.podsReproducible(),
		},
		TTLDuration:       b.TTL.Duration,
		Reproducible:      *b.Reproducible,
		AllowOutsidePaths: p.opts.AllowOutsidePaths,
		Pin:               PinTagDigest,
		Warnings:          warnings(p.Warnings),
		pos:               p.pos,
	}
	if plan.Reproducible {
		plan.Timestamp = new(int64)
	}
	if b.Kaniko.Concurrency != nil {
		plan.Cluster.Concurrency = *b.Kaniko.Concurrency
	}
	plan.Local = LocalPlan{Push: *b.Local.Push, Concurrency: b.Local.Concurrency, BuildKitAddress: b.Local.BuildKitAddress}
	for _, prof := range Profiles {
		plan.Registries[prof] = p.Registry(prof)
	}
	for _, t := range p.OrderedTools() {
		plan.Artifacts = append(plan.Artifacts, newArtifact(p, t))
	}
	for i, w := range p.Workflows {
		ref := p.processRef(w.Path, fmt.Sprintf("workflows.%d.path", i))
		plan.Workflows = append(plan.Workflows, &WorkflowRef{ProcessRef: ref})
	}
	plan.Tests = p.testPlans()
	return plan
}

func newArtifact(p *Project, t *Tool) *Artifact {
	a := &Artifact{
		Tool:       t.Name,
		Key:        "tools." + t.Name,
		Context:    p.Abs(t.Context),
		Dockerfile: filepath.ToSlash(t.Dockerfile),
		Target:     t.Target,
		BuildArgs:  t.BuildArgs,
		Images:     map[Profile]string{},
	}
	var err error
	if a.Platforms, err = p.toolPlatforms(t); err != nil {
		// Validation reports it; the plan of a project that did not
		// validate builds nothing, and carries the list as written.
		a.Platforms = slices.Clone(p.Build.Platforms)
		if len(t.Platforms) > 0 {
			a.Platforms = slices.Clone(t.Platforms)
		}
	}
	for _, prof := range Profiles {
		a.Images[prof] = p.ImageName(t, prof)
	}
	for i, ref := range t.Paths {
		a.Processes = append(a.Processes, p.processRef(ref, t.PathKey(i)))
	}
	return a
}

func (p *Project) processRef(ref, key string) ProcessRef {
	file, id := SplitProcessRef(ref)
	return ProcessRef{Ref: ref, File: file, Path: p.Abs(file), ID: id, Key: key}
}

func kanikoOptions(k *KanikoOptions) ExecutorOptions {
	o := ExecutorOptions{
		RegistryMirrors:   trimSlashes(k.RegistryMirrors),
		RegistryMap:       parseRegistryMap(k.RegistryMap),
		SnapshotMode:      k.SnapshotMode,
		UseNewRun:         k.UseNewRun,
		SingleSnapshot:    k.SingleSnapshot,
		CompressedCaching: k.CompressedCaching,
	}
	if c := k.Cache; c != nil && !c.off() {
		cache := *c
		o.Cache = &cache
	}
	return o
}

// DefaultProfile is the profile [build] engine selects.
func (p *Plan) DefaultProfile() Profile { return defaultProfile(p.Engine) }

// Builder is the profile whose builder a profile builds with: ttl builds
// with the default profile's and only pushes elsewhere.
func (p *Plan) Builder(prof Profile) Profile { return builderProfile(prof, p.Engine) }

// InWorkTree reports whether the project is in a git work tree: its images
// are tagged VERSION-COMMIT there.
func (p *Plan) InWorkTree() bool { return p.Revision != "" }

// Source is the package's source URL: [project] repository, else the git
// remote "origin".
func (p *Plan) Source() string {
	if p.Repository != "" {
		return p.Repository
	}
	return p.GitRemote
}

func defaultProfile(e Engine) Profile {
	if e == EngineLocal {
		return ProfileLocal
	}
	return ProfileCluster
}

func builderProfile(prof Profile, e Engine) Profile {
	if prof == ProfileTTL {
		return defaultProfile(e)
	}
	return prof
}

// PushSecret is the secret a profile's Kaniko pods mount to push: the
// project's, and none for the anonymous ttl registry.
func (p *Plan) PushSecret(prof Profile) string {
	if prof == ProfileTTL {
		return ""
	}
	return p.Cluster.Secret
}

// Artifact returns a tool's artifact by name.
func (p *Plan) Artifact(tool string) (*Artifact, error) {
	for _, a := range p.Artifacts {
		if a.Tool == tool {
			return a, nil
		}
	}
	return nil, fmt.Errorf("%s has no tool %q (tools: %s)", p.File, tool, strings.Join(p.ToolNames(), ", "))
}

// ToolNames lists the tools in project.toml order.
func (p *Plan) ToolNames() []string {
	out := make([]string, len(p.Artifacts))
	for i, a := range p.Artifacts {
		out[i] = a.Tool
	}
	return out
}

// Inside refuses a file outside the package directory, symlinks resolved,
// unless the project allows outside paths: the rule validate applies to the
// paths project.toml names, for the files later stages reach on their own
// (cwlpatch through `run:` and `$import`).
func (p *Plan) Inside(path string) error {
	if p.AllowOutsidePaths {
		return nil
	}
	dir := p.realDir
	if dir == "" { // a plan built by hand
		dir = p.Dir
		if real, err := filepath.EvalSymlinks(p.Dir); err == nil {
			dir = real
		}
	}
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		real = filepath.Clean(path)
	}
	if !within(dir, real) {
		return errors.New("outside the package directory (allow with --allow-outside-paths)")
	}
	return nil
}

// Line returns the line of a dotted key of project.toml, 0 when unknown.
func (p *Plan) Line(key string) int { return p.pos.line(key) }

// Errorf formats an error located at a key of project.toml.
func (p *Plan) Errorf(key, format string, args ...any) error {
	return p.pos.errorAt(p.File, key, format, args...)
}

// Abs resolves a path written in project.toml against its directory.
func (p *Plan) Abs(rel string) string { return absIn(p.Dir, rel) }

// OCI label keys set on every image.
const (
	LabelTitle       = "org.opencontainers.image.title"
	LabelVersion     = "org.opencontainers.image.version"
	LabelDescription = "org.opencontainers.image.description"
	LabelSource      = "org.opencontainers.image.source"
	LabelRevision    = "org.opencontainers.image.revision"
)

// Labels are the OCI labels every build of an artifact sets that do not
// depend on where it is built: the tool's name, [project] version and
// description, and [project] repository. The revision (git HEAD) and, when
// no repository is set, the git remote are added where the build runs (see
// BuildLabels), so that generated files stay the same from commit to
// commit and clone to clone. No creation time is ever set: two builds of one
// context give one digest.
func (p *Plan) Labels(a *Artifact) map[string]string {
	l := map[string]string{LabelTitle: a.Tool}
	for k, v := range map[string]string{LabelVersion: p.Version, LabelDescription: p.Description, LabelSource: p.Repository} {
		if v != "" {
			l[k] = v
		}
	}
	return l
}

// BuildLabels are Labels plus what the project's work tree said when the
// plan was loaded (a build cwlbuild runs itself loads it just before): the
// git revision, and the origin remote when [project] repository is not set.
func (p *Plan) BuildLabels(a *Artifact) map[string]string {
	l := p.Labels(a)
	if p.Revision != "" {
		l[LabelRevision] = p.Revision
	}
	if s := p.Source(); s != "" {
		l[LabelSource] = s
	}
	return l
}

// DefaultImage is the reference an artifact is built as outside Skaffold:
// its image under the default profile, tagged [project] version, or latest.
func (p *Plan) DefaultImage(a *Artifact) string {
	tag := p.Version
	if tag == "" {
		tag = "latest"
	}
	return a.Images[p.DefaultProfile()] + ":" + tag
}

// sourceDateEpoch reads SOURCE_DATE_EPOCH (the reproducible-builds
// convention; `task build` sets it to the last commit's time): a bad value
// is an error, not a silent 0.
func sourceDateEpoch() (*int64, error) {
	s := os.Getenv("SOURCE_DATE_EPOCH")
	if s == "" {
		return nil, nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 {
		return nil, fmt.Errorf("SOURCE_DATE_EPOCH=%q: want a number of seconds since 1970 (reproducible images carry that time)", s)
	}
	return &v, nil
}

// DefaultProfile is the profile [build] engine selects.
func (p *Project) DefaultProfile() Profile { return defaultProfile(p.Build.Engine) }

// Registry returns the registry (host and optional path) of a profile. The
// local and cluster profiles fall back on each other's: a package that
// names one registry pushes there under both, and a bare image name (which
// a push sends to Docker Hub's library namespace) never reaches a profile.
func (p *Project) Registry(prof Profile) string {
	local, cluster := p.Build.Local.Registry, p.Build.Cluster.Registry
	switch prof {
	case ProfileLocal:
		return strings.TrimSuffix(cmp.Or(local, cluster), "/")
	case ProfileTTL:
		return strings.TrimSuffix(p.Build.TTL.Registry, "/")
	default:
		return strings.TrimSuffix(cmp.Or(cluster, local), "/")
	}
}

// ImageName is the image a tool is built as under a profile: its own image
// when set, else REGISTRY/TOOL as the shell Taskfile named it, or the bare
// tool name when the profile has no registry (an image that stays in the
// local engine's store). On the ttl registry, a shared anonymous
// namespace, it is REGISTRY/PROJECT-TOOL: two tools never collide, nor do
// two packages' tools of one name.
func (p *Project) ImageName(t *Tool, prof Profile) string {
	if prof == ProfileTTL {
		name := t.Name
		if prefix := ttlPrefix(p.Project.Name); prefix != "" {
			name = prefix + "-" + name
		}
		return p.Registry(prof) + "/" + name
	}
	if t.Image != "" {
		return t.Image
	}
	if reg := p.Registry(prof); reg != "" {
		return reg + "/" + t.Name
	}
	return t.Name
}

// ttlPrefix is the project name as an image path component: lowercase, runs
// of anything but letters and digits made one '-'.
func ttlPrefix(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		} else {
			dash = true
		}
	}
	return b.String()
}

// SkaffoldInitImage is the image Skaffold gives its Kaniko pods' init
// container when [build.kaniko] initImage is not set.
const SkaffoldInitImage = "gcr.io/k8s-skaffold/skaffold-helpers/busybox"

// PodImageWarnings are the images a cluster build's pods pull that may be
// out of the cluster's reach: the executor and the init container, when not
// on a registry project.toml names (the cluster's registry, the local one,
// registry map targets, mirrors, the cache, insecure registries). In an
// air-gapped or mirrored cluster such pods wait in ImagePullBackOff until
// Skaffold's timeout; nothing fails sooner.
func (p *Plan) PodImageWarnings() []Diagnostic {
	if p.Engine != EngineCluster || p.Cluster.Builder != ClusterKaniko {
		// No Kaniko pod runs: buildkitd's image is the StatefulSet's.
		return nil
	}
	named := map[string]bool{}
	add := func(ref string) {
		if ref != "" {
			named[imageref.RegistryHost(ref)] = true
		}
	}
	for _, r := range p.Registries {
		add(r)
	}
	k := p.Kaniko.Options
	for _, to := range k.RegistryMap {
		for _, t := range to {
			add(t)
		}
	}
	for _, m := range k.RegistryMirrors {
		add(m)
	}
	if k.Cache != nil {
		add(k.Cache.Repo)
	}
	for _, r := range p.Kaniko.Insecure {
		add(r)
	}
	delete(named, imageref.RegistryHost(p.Registries[ProfileTTL]))
	var out []error
	check := func(key, image, what string) {
		if host := imageref.Host(image); !named[host] {
			out = append(out, p.Errorf(key, "%s %s is on %s, a registry project.toml names nowhere else: a cluster that cannot reach %s leaves the Kaniko pods waiting until Skaffold's timeout", what, image, host, host))
		}
	}
	check("build.kaniko.image", p.Kaniko.Image, "the Kaniko executor")
	if p.Kaniko.InitImage == "" {
		check("build.kaniko", SkaffoldInitImage, "build.kaniko.initImage is not set: Skaffold's default init image")
	} else {
		check("build.kaniko.initImage", p.Kaniko.InitImage, "the init image")
	}
	return warnings(out)
}
