package builder

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"

	"github.com/pelletier/go-toml/v2"
)

// Defaults for the optional keys.
const (
	// DefaultExecutorImage is the Kaniko executor the cluster builder runs. The
	// original gcr.io/kaniko-project is archived; this is a maintained fork,
	// pinned by digest so a build never changes under the user's feet.
	DefaultExecutorImage = "ghcr.io/osscontainertools/kaniko:v1.28.2@sha256:4ea0e7301e3f6806de15150e4982c73018351e28c1dca6947bd3b4afb5ae3c60"
	DefaultTTLRegistry   = "ttl.sh"
	DefaultTTLDuration   = "2h"
	DefaultDockerfile    = "Dockerfile"
	// DefaultSBOM is the format of the images' SBOMs.
	DefaultSBOM = "spdx"
	// Calrissian's --max-ram and --max-cores, which it requires.
	DefaultCalrissianMaxRAM   = "1G"
	DefaultCalrissianMaxCores = "1"
	// A Calrissian Job's claim size and time bounds (Go durations).
	DefaultCalrissianVolumeSize   = "1Gi"
	DefaultCalrissianStartTimeout = "5m"
	DefaultCalrissianTimeout      = "1h"
)

// Project is project.toml as written, plus where it was read from. Files in
// the shell Taskfile's schema load unchanged; every other key is an optional
// extension.
type Project struct {
	Project   ProjectInfo      `toml:"project"`
	Build     Build            `toml:"build"`
	Tools     map[string]*Tool `toml:"tools"`
	Workflows []*Workflow      `toml:"workflows"`
	Release   Release          `toml:"release"`
	// Tests is [tests]: test suites kept in cwltest's format beside
	// project.toml's own tests.
	Tests TestSuites `toml:"tests"`

	// File is the path project.toml was loaded from, as the user gave it;
	// errors name it. Dir is its absolute directory: every relative path in
	// the file is relative to it, not to the working directory.
	File string `toml:"-"`
	Dir  string `toml:"-"`
	// ToolOrder lists tool names in the order the file declares them.
	ToolOrder []string `toml:"-"`
	// Warnings are problems that do not stop a load: unknown keys in a
	// test's execution tables, which published packages carry and the shell
	// Taskfile never read.
	Warnings []error `toml:"-"`

	pos          *positions
	opts         LoadOptions
	suiteTests   []*TestPlan           // the cases of its cwltest suites
	stats        map[string]statResult // during validate only
	reals        map[string]realResult // during validate only
	realDirCache string
}

// ProjectInfo is the [project] table.
type ProjectInfo struct {
	// Name names the Skaffold config and, on the ttl registry, prefixes
	// every image (PROJECT-TOOL). Default: none.
	Name string `toml:"name"`
	// Version tags the images (VERSION, or VERSION-COMMIT in a git work
	// tree) and the published workflows. Default: none (Skaffold's sha256
	// tagger, "latest"; `cwlbuild publish` needs one).
	Version string `toml:"version"`
	// Description is the images' and releases' description label. Default:
	// none.
	Description string `toml:"description"`
	// Repository is the package's source repository URL, recorded in image
	// labels and release annotations (default: the git remote "origin").
	Repository string `toml:"repository"`
}

// Build is the [build] table.
type Build struct {
	// Engine chooses the default build section: "cluster" (Kaniko pods) or
	// "local" (docker, podman or buildah on this machine).
	Engine Engine `toml:"engine"`
	// Reproducible builds images without timestamps, so one context gives
	// one digest: Kaniko's --reproducible, buildah's and podman's
	// --timestamp SOURCE_DATE_EPOCH. Default: true, except in the
	// cluster's Kaniko pods, where --reproducible re-reads and recompresses
	// the whole image in memory (measured on a 300 MB image: 5 times the
	// build time and twice the memory; docs/performance.md).
	Reproducible *bool `toml:"reproducible"`
	// Platforms are the platforms every tool's image is built for
	// ("linux/amd64", "linux/arm64"): more than one makes each tool an
	// image index, which cwlpatch pins. Default: the builder's own.
	Platforms []string `toml:"platforms"`
	// reproducibleDefaulted is whether applyDefaults set Reproducible
	// (project.toml does not): the cluster's pods then build without
	// --reproducible (podsReproducible).
	reproducibleDefaulted bool
	// Local is [build.local], builds on this machine.
	Local LocalBuild `toml:"local"`
	// Cluster is [build.cluster], builds in Kubernetes with Kaniko pods.
	Cluster ClusterBuild `toml:"cluster"`
	// Kaniko is [build.kaniko], how Kaniko builds wherever it runs.
	Kaniko KanikoOptions `toml:"kaniko"`
	// TTL is [build.ttl], the anonymous registry of the ttl profile.
	TTL TTLBuild `toml:"ttl"`
	// Calrissian is [build.calrissian], how `cwlbuild test --engine
	// cluster` runs a test as a Calrissian Job from outside the cluster.
	Calrissian CalrissianOptions `toml:"calrissian"`
	// Tests is [build.tests], what the package's tests may read.
	Tests TestsOptions `toml:"tests"`
}

// TestsOptions is [build.tests].
type TestsOptions struct {
	// RemoteInputs lets a test's File and Directory inputs (its params, the
	// CWL defaults) name http, https, s3 and gs locations, which the engine
	// downloads; never a loopback, link-local or private address (a cloud's
	// metadata service hands out credentials there). Default: false, every
	// input is a file of the package.
	RemoteInputs bool `toml:"remoteInputs"`
}

// Release is [release]: what a release attaches to what it publishes.
type Release struct {
	// SBOM is the format of each image's SBOM ("spdx", "cyclonedx") or
	// "none". Default: "spdx" (SPDX 2.3 JSON).
	SBOM string `toml:"sbom"`
	// ExternalImages are the repositories of images the workflows run and
	// no tool builds ("docker.io/library/python"): the conformance check
	// accepts them. Default: none.
	ExternalImages []string `toml:"externalImages"`
}

// CalrissianOptions is [build.calrissian]: the Job each test runs as when
// cwlbuild runs outside the cluster (with a kubeconfig), and the volume the
// test's files are staged in.
type CalrissianOptions struct {
	// Image is Calrissian's image, pinned (a floating tag is refused); a
	// test's execution.cluster.calrissian_image overrides it. Default:
	// none, a Job run asks for it (Calrissian publishes no image of its
	// own that could be pinned here).
	Image string `toml:"image"`
	// InitImage is CALRISSIAN_INIT_IMAGE, the init container of every tool
	// pod (it needs sh). Default: Calrissian's, alpine:3.10 from Docker
	// Hub, which mirrored and air-gapped clusters cannot pull.
	InitImage string `toml:"initImage"`
	// ServiceAccount runs Calrissian and its tool pods (it needs a Role on
	// pods, and the pull secrets of the tools' registries); a test's
	// execution.cluster.pod_serviceaccount overrides it. Default: the
	// namespace's default account.
	ServiceAccount string `toml:"serviceAccount"`
	// Namespace runs the Jobs; a test's execution.cluster.namespace
	// overrides it. Default: [build.cluster] namespace, else the
	// kubeconfig context's.
	Namespace string `toml:"namespace"`
	// Claim is an existing ReadWriteMany PersistentVolumeClaim in the
	// namespace that holds every run's files. Default: none, each run
	// creates a claim of StorageClass and deletes it afterwards.
	Claim string `toml:"claim"`
	// StorageClass is the class of the claims runs create. Default: the
	// cluster's default class.
	StorageClass string `toml:"storageClass"`
	// VolumeSize is the size of the claims runs create. Default: "1Gi".
	VolumeSize string `toml:"volumeSize"`
	// StartTimeout bounds how long a pod of the run may take to start
	// (its claim to bind, its image to pull); an image that cannot be
	// pulled fails at once. Default: "5m".
	StartTimeout string `toml:"startTimeout"`
	// Timeout bounds each test's Job (the Job's activeDeadlineSeconds).
	// Default: "1h".
	Timeout string `toml:"timeout"`
}

// LocalBuild is [build.local].
type LocalBuild struct {
	// Runtime builds the images: "docker" (Skaffold's own builder, a
	// Docker API), "podman", "buildah", "buildkit" or "kaniko" (`cwlbuild
	// plugin` as Skaffold's custom builder). Default: "docker".
	Runtime Runtime `toml:"runtime"`
	// Registry is where the local profile pushes (host and optional path).
	// Default: [build.cluster] registry.
	Registry string `toml:"registry"`
	// Push sends each image to its registry. Default: true (cwlpatch needs
	// the digest a registry reports).
	Push *bool `toml:"push"`
	// Concurrency is how many images Skaffold builds at once (0: all).
	// Default: 0 for podman, buildah and buildkit, 1 for kaniko (the only
	// value it accepts), Skaffold's own for docker.
	Concurrency *int `toml:"concurrency"`
	// BuildKitAddress is the buildkitd of the buildkit runtime: a unix
	// socket (unix:///path) or a loopback tcp://host:port. A daemon
	// elsewhere is named by the user ($BUILDKIT_HOST, --buildkit-addr),
	// never by the package: the build's session answers the daemon's
	// requests for registry logins. Default: $BUILDKIT_HOST, else
	// scripts/buildkitd.sh's socket.
	BuildKitAddress string `toml:"buildkitAddress"`
}

// ClusterBuild is [build.cluster].
type ClusterBuild struct {
	// Namespace runs the Kaniko pods. Default: Skaffold's (the current
	// context's).
	Namespace string `toml:"namespace"`
	// ServiceAccount runs the Kaniko pods. Default: the namespace's
	// default account.
	ServiceAccount string `toml:"serviceAccount"`
	// Registry is where the cluster profile pushes (host and optional
	// path). Default: [build.local] registry.
	Registry string `toml:"registry"`
	// Secret names a kubernetes.io/dockerconfigjson secret in Namespace,
	// mounted as /kaniko/.docker/config.json to push. Default: none.
	Secret string `toml:"secret"`
	// Preflight makes `task build` run `cwlbuild check --cluster` before
	// a cluster build: one short pod that checks images, logins and RBAC,
	// so a wrong secret fails in seconds, not after Skaffold's timeout.
	// Default: false.
	Preflight bool `toml:"preflight"`
	// Builder builds the cluster profile's images: "kaniko" (Skaffold's
	// cluster builder, a Kaniko pod per image) or "buildkit" (`cwlbuild
	// plugin` sends each build to the buildkitd StatefulSet of Namespace,
	// reached through the API server). Default: "kaniko".
	Builder ClusterBuilder `toml:"builder"`
	// BuildKitCache is where the buildkit builder's cache lives: "daemon"
	// (the StatefulSet's state volume) or "registry" (the cluster's cache
	// repository, [build.kaniko.cache] repo else REGISTRY/cache: every
	// build reads it and writes every step's layer back, for a buildkitd
	// without a state volume). Default: "daemon".
	BuildKitCache BuildKitCache `toml:"buildkitCache"`
	// Emulation lets the kaniko builder build a platform no node of the
	// cluster runs on any node, its RUN steps under QEMU (binfmt_misc on
	// the nodes); without it such a platform fails before any pod starts.
	// Default: false.
	Emulation bool `toml:"emulation"`
}

// KanikoOptions is [build.kaniko]: how Kaniko builds, in the cluster and in
// `cwlbuild plugin --backend kaniko` alike.
type KanikoOptions struct {
	// Image is the executor image of the cluster's pods, pinned (a floating
	// tag is refused). Default: DefaultExecutorImage, a maintained fork
	// pinned by digest.
	Image string `toml:"image"`
	// InitImage is the image of the init container Skaffold's Kaniko pods
	// receive the build context through (it needs sh and tar). Skaffold's
	// default comes from gcr.io, which air-gapped and mirrored clusters
	// cannot pull: their pods would wait until Skaffold's timeout.
	// Default: Skaffold's (gcr.io/k8s-skaffold/skaffold-helpers/busybox).
	InitImage string `toml:"initImage"`
	// Cache is Kaniko's layer cache. Default: none.
	Cache *KanikoCache `toml:"cache"`
	// RegistryMirrors are pull-through mirrors of Docker Hub, tried in
	// order. Default: none.
	RegistryMirrors []string `toml:"registryMirrors"`
	// RegistryMap rewrites base images' registries: "index.docker.io" =
	// "harbor.example/hub", or "a;b" to try two in turn. Default: none.
	RegistryMap map[string]string `toml:"registryMap"`
	// SnapshotMode is Kaniko's --snapshot-mode (full, redo, time).
	// Default: Kaniko's (full).
	SnapshotMode string `toml:"snapshotMode"`
	// UseNewRun is Kaniko's --use-new-run. Default: false.
	UseNewRun bool `toml:"useNewRun"`
	// SingleSnapshot is Kaniko's --single-snapshot: one snapshot at the end
	// instead of one per instruction. Default: false.
	SingleSnapshot bool `toml:"singleSnapshot"`
	// CompressedCaching is Kaniko's --compressed-caching (false avoids
	// out-of-memory kills on large images; `cwlbuild plugin` and `tar`
	// only). Default: Kaniko's (true).
	CompressedCaching *bool `toml:"compressedCaching"`
	// InsecureRegistries are reached over plain HTTP, besides loopback
	// ones (always). Default: none.
	InsecureRegistries []string `toml:"insecureRegistries"`
	// Resources are the Kaniko pods' requests and limits. Default: none.
	Resources *Resources `toml:"resources"`
	// Timeout bounds each cluster build (Skaffold's duration syntax).
	// Default: Skaffold's (20m).
	Timeout string `toml:"timeout"`
	// Concurrency is how many Kaniko pods run at once (0: all). Default: 0.
	Concurrency *int `toml:"concurrency"`
}

// podsReproducible is --reproducible in the cluster's Kaniko pods: only
// when project.toml sets [build] reproducible = true.
func (b *Build) podsReproducible() bool { return !b.reproducibleDefaulted && *b.Reproducible }

// KanikoCache is [build.kaniko.cache].
type KanikoCache struct {
	// Enabled = false turns the cache off. Default: on in the cluster
	// whenever [build.cluster] registry is set (Plan.ClusterCache), and
	// for `cwlbuild plugin --backend kaniko` when the table is written.
	Enabled *bool `toml:"enabled"`
	// Repo holds the cached layers. Default: REGISTRY/cache in the
	// cluster; elsewhere Kaniko's (the destination's repository/cache).
	Repo string `toml:"repo"`
	// TTL is how long a cached layer is used. Default: 336h in the
	// cluster (Kaniko's two weeks).
	TTL string `toml:"ttl"`
	// RunLayers caches RUN layers. Default: Kaniko's (true).
	RunLayers *bool `toml:"runLayers"`
	// CopyLayers caches COPY layers. Default: false.
	CopyLayers bool `toml:"copyLayers"`
}

// off is [build.kaniko.cache] enabled = false.
func (c *KanikoCache) off() bool { return c != nil && c.Enabled != nil && !*c.Enabled }

// Resources is [build.kaniko.resources]: the Kaniko pod's requests and
// limits. Default: DefaultResources; a table written with no amounts sets
// none.
type Resources struct {
	// Requests are what the scheduler reserves.
	Requests *ResourceAmounts `toml:"requests"`
	// Limits are what the pod may use.
	Limits *ResourceAmounts `toml:"limits"`
}

// DefaultResources are the Kaniko pods' requests and limits when
// [build.kaniko.resources] is not written, chosen from the cluster bench
// (docs/performance.md): on an image with a 300 MB, 40,000-file RUN layer,
// a pod's memory cgroup peaked at 2.8 GB, page cache included, and the
// builds ran under a 3 GiB limit; with --reproducible it peaked at 5 GB.
// The request keeps the scheduler from packing more pods on a node than
// it can hold; the limit keeps a runaway build from taking the node.
func DefaultResources(reproducible bool) *Resources {
	limit := "4Gi"
	if reproducible {
		limit = "8Gi"
	}
	return &Resources{Requests: &ResourceAmounts{CPU: "500m", Memory: "1Gi"}, Limits: &ResourceAmounts{Memory: limit}}
}

// ResourceAmounts are Kubernetes quantities ("500m", "2Gi").
type ResourceAmounts struct {
	CPU              string `toml:"cpu"`              // default: none
	Memory           string `toml:"memory"`           // default: none
	EphemeralStorage string `toml:"ephemeralStorage"` // default: none
}

// Map is the amounts as Kubernetes names them ("cpu", "memory",
// "ephemeral-storage"), the unset ones left out; nil for nil.
func (a *ResourceAmounts) Map() map[string]string {
	if a == nil {
		return nil
	}
	m := map[string]string{}
	for k, v := range map[string]string{"cpu": a.CPU, "memory": a.Memory, "ephemeral-storage": a.EphemeralStorage} {
		if v != "" {
			m[k] = v
		}
	}
	return m
}

// TTLBuild is [build.ttl]: an anonymous registry whose images expire.
type TTLBuild struct {
	// Registry is the anonymous registry. Default: "ttl.sh".
	Registry string `toml:"registry"`
	// Duration is how long it keeps an image, and the images' tag: a
	// number and s, m, h or d. Default: "2h".
	Duration string `toml:"duration"`
}

// Tool is one [tools.NAME] table: a CommandLineTool and its build context.
type Tool struct {
	Name string `toml:"-"`
	// Context is the build context directory, relative to project.toml.
	Context string `toml:"context"`
	// RawPath is tools.NAME.path as written: "FILE#ID" (or "FILE"), or a
	// list of them when several processes run this tool's image. Validation
	// turns it into Paths; nothing else reads it.
	RawPath any `toml:"path"`
	// Paths are the CWL processes whose DockerRequirement cwlpatch pins to
	// this tool's image (besides their copies in every [[workflows]] file).
	Paths []string `toml:"-"`
	// Dockerfile is relative to Context and inside it. Default:
	// "Dockerfile".
	Dockerfile string `toml:"dockerfile"`
	// Target is the Dockerfile stage to build. Default: the last.
	Target string `toml:"target"`
	// BuildArgs are the Dockerfile's ARG values. Default: none.
	BuildArgs map[string]string `toml:"buildArgs"`
	// Image overrides the image name (registry and repository, no tag).
	// Default: REGISTRY/TOOL under each profile.
	Image string `toml:"image"`
	// Platforms overrides [build] platforms for this tool.
	Platforms []string `toml:"platforms"`
	// Tests are [[tools.NAME.tests]]: CWL tests of the tool's process.
	Tests []*Test `toml:"tests"`
}

// Workflow is one [[workflows]] entry.
type Workflow struct {
	// Path is the workflow's CWL file, "FILE" or "FILE#ID" (a $graph file
	// without an id runs #main). Required.
	Path string `toml:"path"`
	// Tests are [[workflows.tests]]: CWL tests of the workflow.
	Tests []*Test `toml:"tests"`
}

// Test is one [[tools.NAME.tests]] or [[workflows.tests]] entry.
type Test struct {
	// Name selects the test (`cwlbuild test --name`). Default: its id.
	Name        string `toml:"name"`
	Description string `toml:"description"`
	// Params is the CWL job: File and Directory paths relative to
	// project.toml. Default: none.
	Params map[string]any `toml:"params"`
	// Execution is where the run writes, and Calrissian's options.
	Execution Execution `toml:"execution"`
	// Tags select the test (`cwlbuild test --tags`), as a cwltest
	// suite's tags do. Default: none.
	Tags []string `toml:"tags"`
	// Expect is the output object the run must give, matched the way
	// cwltest matches (cwltest/expect): a table, or a JSON or YAML file
	// of the package. Default: none (the run must only succeed).
	Expect any `toml:"expect"`
	// ShouldFail is cwltest's should_fail: the test passes when the run
	// fails (the engine exits non-zero) and fails when it succeeds.
	// Default: false.
	ShouldFail bool `toml:"should_fail"`
	// Timeout bounds the run (a Go duration, "10m", or seconds as
	// cwltest's --timeout takes them); a run that passes it fails, naming
	// the limit. Default: none.
	Timeout any `toml:"timeout"`
}

// TestSuites is [tests].
type TestSuites struct {
	// Suites are [[tests.suites]]: files of cwltest's format (a YAML list
	// of cases with tool, job, output, id, doc, tags, should_fail), run by
	// `cwlbuild test` after project.toml's own tests. Default: none.
	Suites []*Suite `toml:"suites"`
}

// Suite is one [[tests.suites]] entry.
type Suite struct {
	// Path is the suite file, in the package.
	Path string `toml:"path"`
	// URLs maps the http(s) addresses a published suite gives its tool and
	// job files to paths of the package, by prefix (the longest that
	// matches): the released CWL to the package's own, which cwlbuild
	// built and pinned. Default: none (a tool or job by URL is refused).
	URLs map[string]string `toml:"urls"`
	// Timeout bounds each case's run, as a test's timeout does (cwltest's
	// --timeout). Default: none.
	Timeout any `toml:"timeout"`
}

// Execution is a test's execution table.
type Execution struct {
	Cluster ClusterExecution `toml:"cluster"`
	Paths   ExecutionPaths   `toml:"paths"`
}

// ClusterExecution holds Calrissian's resource and account options.
type ClusterExecution struct {
	// MaxRAM and MaxCores bound what Calrissian runs at once (it requires
	// both). Default: DefaultCalrissianMaxRAM and DefaultCalrissianMaxCores,
	// the seed's values.
	MaxRAM            string `toml:"max_ram"`            // --max-ram
	MaxCores          any    `toml:"max_cores"`          // --max-cores
	PodServiceAccount string `toml:"pod_serviceaccount"` // --pod-serviceaccount; default: [build.calrissian] serviceAccount
	// UsageReport and ToolLogsBasepath are under the volume unless
	// absolute. Default: none.
	UsageReport      string `toml:"usage_report"`
	ToolLogsBasepath string `toml:"tool_logs_basepath"`
	// DaskGateway passes DASK_GATEWAY_ADDRESS as --dask-gateway-url.
	DaskGateway bool `toml:"dask_gateway"`
	Debug       bool `toml:"debug"` // --debug
	// Namespace runs the test's Job. Default: [build.calrissian] namespace.
	Namespace string `toml:"namespace"`
	// CalrissianImage runs the test's Job. Default: [build.calrissian]
	// image.
	CalrissianImage string `toml:"calrissian_image"`
}

// ExecutionPaths places a test's files under its own volume.
type ExecutionPaths struct {
	// Volume holds every file of the run. Default: .cwlbuild/tests/ID.
	Volume string `toml:"volume"`
	// The rest are under the volume unless absolute (and must stay in it).
	Stdout          string `toml:"stdout"`            // default: ID-NAME.stdout.json
	Stderr          string `toml:"stderr"`            // default: ID-NAME.stderr.log
	TmpOutdirPrefix string `toml:"tmp_outdir_prefix"` // default: tmp/
	Outdir          string `toml:"outdir"`            // default: outputs
}

// LoadProject reads, decodes and validates project.toml. Decoding is strict:
// a misspelt key is an error that names its line and the nearest valid key.
func LoadProject(file string) (*Project, error) {
	return LoadProjectWith(file, LoadOptions{})
}

// LoadOptions relax what LoadProject accepts.
type LoadOptions struct {
	// AllowOutsidePaths accepts contexts and CWL paths that leave the
	// project directory ("../shared", "/abs/path"). Refused by default: a
	// package is built and patched as one tree, and cwlpatch must never
	// rewrite files of another package because of a stray "..".
	AllowOutsidePaths bool
	// SkipContexts leaves build contexts and Dockerfiles unchecked, for
	// commands that only read the CWL (cwlpatch, cwlbuild test): a CI job
	// that patches after a build elsewhere has the CWL files and build.json,
	// not the contexts.
	SkipContexts bool
	// SkipCWL leaves the CWL files unchecked, for commands that only build
	// images (generate, plugin, tar).
	SkipCWL bool
	// SkipTests leaves the tests' execution paths unchecked, for commands
	// that run no test.
	SkipTests bool
	// Suites are cwltest suites named on the command line (`cwlbuild test
	// --suite`), absolute paths, loaded as [[tests.suites]] entries are
	// (one that is also declared there takes its entry's urls and
	// timeout).
	Suites []string
	// ConfineTestVolumes refuses a test volume outside the project (unless
	// AllowOutsidePaths), for the command that runs tests and writes there;
	// otherwise it is a warning.
	ConfineTestVolumes bool
}

// MaxProjectSize bounds project.toml: a package of 10000 tools is about
// 1 MB, and a hostile 50 MB file would keep the TOML decoder busy for
// minutes.
const MaxProjectSize = 8 << 20

// LoadProjectWith is LoadProject with options.
func LoadProjectWith(file string, opts LoadOptions) (*Project, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxProjectSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxProjectSize {
		return nil, &Error{File: file, Msg: fmt.Sprintf("larger than %d MB, more than any package needs: not read", MaxProjectSize>>20)}
	}
	return parseProject(file, data, opts)
}

// ParseProject is LoadProject on bytes already read; file names them in errors
// and sets the directory relative paths are resolved against.
func ParseProject(file string, data []byte) (*Project, error) {
	return parseProject(file, data, LoadOptions{})
}

func parseProject(file string, data []byte, opts LoadOptions) (*Project, error) {
	pos, err := indexPositions(data)
	if err != nil {
		// The decoder reports the same syntax error with its line.
		if derr := toml.Unmarshal(data, &map[string]any{}); derr != nil {
			_, err := decodeError(file, derr)
			return nil, err
		}
		return nil, &Error{File: file, Msg: "invalid TOML: " + err.Error()}
	}
	p := &Project{File: file, pos: pos, opts: opts}
	dec := toml.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(p); err != nil {
		// go-toml decodes the whole document before it reports unknown
		// keys, so a load that only has tolerated ones can go on.
		warnings, err := decodeError(file, err)
		if err != nil {
			return nil, err
		}
		p.Warnings = warnings
	}
	abs, err := filepath.Abs(file)
	if err != nil {
		return nil, err
	}
	p.Dir = filepath.Dir(abs)
	p.ToolOrder = pos.toolOrder
	for _, name := range p.ToolOrder {
		if t := p.Tools[name]; t != nil {
			t.Name = name
		}
	}
	p.applyDefaults()
	if err := p.validate(); err != nil {
		return nil, err
	}
	return p, nil
}

// OrderedTools returns the tools in file order.
func (p *Project) OrderedTools() []*Tool {
	out := make([]*Tool, 0, len(p.ToolOrder))
	for _, name := range p.ToolOrder {
		if t, ok := p.Tools[name]; ok {
			out = append(out, t)
		}
	}
	return out
}

// Abs resolves a path written in project.toml against its directory.
func (p *Project) Abs(rel string) string { return absIn(p.Dir, rel) }

// absIn resolves a slash-separated path written in project.toml against
// dir, the file's directory.
func absIn(dir, rel string) string {
	if filepath.IsAbs(rel) {
		return filepath.Clean(rel)
	}
	return filepath.Join(dir, filepath.FromSlash(rel))
}

// Line returns the line of a dotted key path ("tools.crop.context"), or of
// its nearest enclosing table, or 0 when unknown.
func (p *Project) Line(key string) int { return p.pos.line(key) }

// Errorf formats an error located at key: "project.toml:14: tools.crop...".
func (p *Project) Errorf(key, format string, args ...any) error {
	return p.pos.errorAt(p.File, key, format, args...)
}

// applyDefaults is the one place a default of project.toml is set: every
// later stage reads the plan, and NewPlan only copies.
func (p *Project) applyDefaults() {
	b := &p.Build
	if b.TTL.Registry == "" {
		b.TTL.Registry = DefaultTTLRegistry
	}
	if b.TTL.Duration == "" {
		b.TTL.Duration = DefaultTTLDuration
	}
	if b.Kaniko.Image == "" {
		b.Kaniko.Image = DefaultExecutorImage
	}
	if p.Release.SBOM == "" {
		p.Release.SBOM = DefaultSBOM
	}
	if b.Calrissian.Namespace == "" {
		b.Calrissian.Namespace = b.Cluster.Namespace
	}
	if b.Calrissian.VolumeSize == "" {
		b.Calrissian.VolumeSize = DefaultCalrissianVolumeSize
	}
	if b.Calrissian.StartTimeout == "" {
		b.Calrissian.StartTimeout = DefaultCalrissianStartTimeout
	}
	if b.Calrissian.Timeout == "" {
		b.Calrissian.Timeout = DefaultCalrissianTimeout
	}
	if b.Local.Runtime == "" {
		b.Local.Runtime = RuntimeDocker
	}
	if b.Cluster.Builder == "" {
		b.Cluster.Builder = ClusterKaniko
	}
	if b.Cluster.BuildKitCache == "" {
		b.Cluster.BuildKitCache = BuildKitCacheDaemon
	}
	yes := true
	if b.Reproducible == nil {
		b.Reproducible = &yes
		b.reproducibleDefaulted = true
	}
	if b.Kaniko.Resources == nil {
		b.Kaniko.Resources = DefaultResources(b.podsReproducible())
	}
	if b.Local.Push == nil {
		// cwlpatch needs the digest a registry reports.
		b.Local.Push = &yes
	}
	if b.Local.Concurrency == nil {
		_, plugin := b.Local.Runtime.Backend()
		switch {
		case b.Local.Runtime == RuntimeKaniko:
			// The executor owns the root filesystem of the container it
			// runs in (a CI job in the Kaniko image): two at once corrupt
			// each other's builds.
			one := 1
			b.Local.Concurrency = &one
		case plugin:
			// Daemonless builds of different tools share nothing but the
			// storage, which buildah and podman lock, and buildkitd
			// schedules the builds it is sent: build them all at once
			// (Skaffold's own local default is one at a time).
			unlimited := 0
			b.Local.Concurrency = &unlimited
		}
	}
	for _, t := range p.Tools {
		if t.Dockerfile == "" {
			t.Dockerfile = DefaultDockerfile
		}
	}
}

// Error is a problem at one place of project.toml.
type Error struct {
	File string
	Line int
	Key  string
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// Errors is every problem found by one validation pass.
type Errors []error

func (es Errors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// Unwrap lets errors.As find each problem.
func (es Errors) Unwrap() []error { return es }

// decodeError rewrites go-toml's errors into file:line messages; unknown keys
// get the nearest valid key of their table as a suggestion. Unknown keys in a
// test's execution tables come back as warnings, and err is nil when there is
// nothing else.
func decodeError(file string, err error) (warnings []error, _ error) {
	var sm *toml.StrictMissingError
	if errors.As(err, &sm) {
		var out Errors
		for i := range sm.Errors {
			de := &sm.Errors[i]
			row, _ := de.Position()
			key := []string(de.Key())
			name := key[len(key)-1]
			table := key[:len(key)-1]
			msg := fmt.Sprintf("unknown key %q", name)
			if len(table) > 0 {
				msg += fmt.Sprintf(" in [%s]", strings.Join(table, "."))
			}
			if s := Suggest(name, validKeys(reflect.TypeOf(Project{}), table)); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			e := &Error{File: file, Line: row, Key: strings.Join(key, "."), Msg: msg}
			if inTestExecution(table) {
				e.Msg += ": ignored"
				warnings = append(warnings, e)
				continue
			}
			out = append(out, e)
		}
		if len(out) == 0 {
			return warnings, nil
		}
		return nil, out
	}
	var de *toml.DecodeError
	if errors.As(err, &de) {
		row, _ := de.Position()
		return nil, &Error{File: file, Line: row, Key: strings.Join(de.Key(), "."), Msg: de.Error()}
	}
	return nil, &Error{File: file, Msg: err.Error()}
}

// inTestExecution reports whether a table path is a test's execution table
// or one below it: [tools.NAME.tests.execution...] or
// [workflows.tests.execution...] (go-toml's paths carry no array index).
func inTestExecution(table []string) bool {
	switch {
	case len(table) >= 4 && table[0] == "tools":
		return table[2] == "tests" && table[3] == "execution"
	case len(table) >= 3 && table[0] == "workflows":
		return table[1] == "tests" && table[2] == "execution"
	}
	return false
}

// validKeys lists the TOML keys of the table at path inside t, walking
// struct fields, maps (tool names) and slices (arrays of tables).
func validKeys(t reflect.Type, path []string) []string {
	for _, part := range path {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
			t = t.Elem()
		}
		switch t.Kind() {
		case reflect.Map:
			t = t.Elem()
			continue
		case reflect.Struct:
			f, ok := fieldByTag(t, part)
			if !ok {
				return nil
			}
			t = f.Type
		default:
			return nil
		}
	}
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	var keys []string
	for i := 0; i < t.NumField(); i++ {
		if tag := tomlName(t.Field(i)); tag != "" {
			keys = append(keys, tag)
		}
	}
	return keys
}

func fieldByTag(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := 0; i < t.NumField(); i++ {
		if tomlName(t.Field(i)) == name {
			return t.Field(i), true
		}
	}
	return reflect.StructField{}, false
}

func tomlName(f reflect.StructField) string {
	tag, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
	if tag == "-" {
		return ""
	}
	return tag
}

// Suggest returns the candidate closest to name by edit distance, when it is
// close enough to be a likely typo.
func Suggest(name string, candidates []string) string {
	best, bestDist := "", len(name)/3+2
	for _, c := range candidates {
		d := editDistance(strings.ToLower(name), strings.ToLower(c))
		if d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// ProjectFile is the name of the file FindProject looks for.
const ProjectFile = "project.toml"

// FindProject returns the project.toml of dir or of its nearest parent that
// has one, relative to dir (messages name it as the user would).
func FindProject(dir string) (string, error) {
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		f := filepath.Join(d, ProjectFile)
		if fi, err := os.Stat(f); err == nil && !fi.IsDir() {
			if rel, err := filepath.Rel(dir, f); err == nil {
				return rel, nil
			}
			return f, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no %s in %s or any directory above it: give -f", ProjectFile, dir)
		}
	}
}
