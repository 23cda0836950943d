package build

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/distribution/reference"
	"github.com/docker/cli/cli/config"
	"github.com/docker/cli/cli/connhelper/commandconn"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/session"
	"github.com/moby/buildkit/session/auth/authprovider"
	"github.com/opencontainers/go-digest"
	"github.com/tonistiigi/fsutil"
	fstypes "github.com/tonistiigi/fsutil/types"
	"golang.org/x/sync/errgroup"

	"github.com/eoap/cwlbuild/builder"
	"github.com/eoap/cwlbuild/internal/agentapi"
	"github.com/eoap/cwlbuild/internal/atomicfile"
	"github.com/eoap/cwlbuild/internal/imageref"
)

// BuildKit sends each build to a buildkitd through BuildKit's Go client:
// the context goes by BuildKit's own file sync (honouring .dockerignore),
// registry logins are answered by the build's session from the Docker
// config (the daemon keeps none), and the digest is the solve's. The
// daemon's layer cache survives between builds, so a code change reruns
// only the steps after it. Address is the daemon ("" is $BUILDKIT_HOST,
// else DefaultBuildKitAddress).
type BuildKit struct{ Address string }

// DefaultBuildKitAddress is the socket scripts/buildkitd.sh serves.
const DefaultBuildKitAddress = "unix:///run/cwlbuild-buildkit/buildkitd.sock"

// Name is "buildkit".
func (BuildKit) Name() string { return "buildkit" }

// address is the daemon a build goes to.
func (k BuildKit) address() string {
	if k.Address != "" {
		return k.Address
	}
	if env := os.Getenv("BUILDKIT_HOST"); env != "" {
		return env
	}
	return DefaultBuildKitAddress
}

// Solver is a Backend that builds through a library rather than by running
// programs: Image calls Solve, and Commands only describes the build (what
// `plugin --dry-run` prints).
type Solver interface {
	Solve(ctx context.Context, s *Spec, stdout, stderr io.Writer) error
}

// solveRequest is one build as BuildKit takes it: the Dockerfile
// frontend's options, the two local directories it reads and the image
// exporter's options. Commands renders it as buildctl's flags, Solve sends
// it: one description for both.
type solveRequest struct {
	context, dockerfileDir string
	frontend               map[string]string
	export                 map[string]string
	// cache is the registry cache's attributes (type=registry), nil
	// without one: imported from and exported to the same reference.
	cache map[string]string
}

// request is s as BuildKit takes it. The Dockerfile frontend is pinned to
// the daemon's own (cmdline): a `# syntax=` line would otherwise have the
// daemon pull and run a frontend image the Dockerfile names, which Kaniko,
// buildah and podman never do. Base images the registry map covers are
// named contexts pointing at the mapped image, the way `--build-context`
// replaces an image.
func (s *Spec) request() (*solveRequest, error) {
	if s.Tarball != "" {
		return nil, fmt.Errorf("tarballs are built with kaniko, not buildkit")
	}
	df := filepath.Join(s.Context, s.Dockerfile)
	r := &solveRequest{
		context:       s.Context,
		dockerfileDir: filepath.Dir(df),
		frontend: map[string]string{
			"cmdline":  "dockerfile.v0",
			"filename": filepath.Base(df),
		},
		export: map[string]string{"name": s.Image, "push": "true"},
	}
	if s.Target != "" {
		r.frontend["target"] = s.Target
	}
	for k, v := range s.BuildArgs {
		r.frontend["build-arg:"+k] = v
	}
	for k, v := range s.Labels {
		r.frontend["label:"+k] = v
	}
	if len(s.Platforms) > 0 {
		r.frontend["platform"] = strings.Join(s.Platforms, ",")
	}
	if s.Timestamp != nil {
		// The image's and its history's times become SOURCE_DATE_EPOCH.
		// (The files keep their times: the context's as they are on
		// disk, which the daemon's copy of it relies on, RUN steps' those
		// of their build.)
		r.frontend["build-arg:SOURCE_DATE_EPOCH"] = strconv.FormatInt(*s.Timestamp, 10)
		if s.RewriteTimestamps {
			// Every file time of every layer above the base, RUN steps'
			// too, at each export.
			r.export["rewrite-timestamp"] = "true"
		}
	}
	if imageref.IsInsecure(s.Image, s.Insecure) && !imageref.IsLoopback(imageref.Host(s.Image)) {
		// buildkitd pushes to loopback registries over plain HTTP itself.
		r.export["registry.insecure"] = "true"
	}
	if s.CacheRepo != "" {
		ref, err := cacheRef(s.CacheRepo, s.Image)
		if err != nil {
			return nil, err
		}
		r.cache = map[string]string{"ref": ref}
		if imageref.IsInsecure(ref, s.Insecure) && !imageref.IsLoopback(imageref.Host(ref)) {
			r.cache["registry.insecure"] = "true"
		}
	}
	if data, err := readDockerfile(df); err == nil {
		for _, img := range pulledImages(data, s.BuildArgs) {
			to, ok := s.Kaniko.PullFrom(img)
			if !ok {
				continue
			}
			name, err := contextName(img)
			if err != nil {
				continue // the frontend reports a malformed image itself
			}
			r.frontend["context:"+name] = "docker-image://" + to
		}
	}
	return r, nil
}

// cacheRef is image's build cache in repo: one tag per image repository
// ("buildkit-" and its path, '/' made '-'), so the tools of a package keep
// their caches side by side. Two repositories whose tags coincide share
// one tag: each export replaces the other's, a cache lost, never a wrong
// layer (BuildKit's cache keys are the steps' and their inputs' digests).
func cacheRef(repo, image string) (string, error) {
	r, err := reference.ParseNormalizedNamed(repo)
	if err != nil || !reference.IsNameOnly(r) {
		return "", fmt.Errorf("cache repository %q: a repository without tag or digest is needed", repo)
	}
	named, err := reference.ParseNormalizedNamed(image)
	if err != nil {
		return "", fmt.Errorf("image %q: %w", image, err)
	}
	tag := "buildkit-" + nonTagChars.ReplaceAllString(reference.Path(named), "-")
	if len(tag) > 128 {
		sum := sha256.Sum256([]byte(tag))
		tag = tag[:128-17] + "-" + hex.EncodeToString(sum[:8])
	}
	return r.String() + ":" + tag, nil
}

// nonTagChars are the characters a tag cannot hold.
var nonTagChars = regexp.MustCompile(`[^A-Za-z0-9_.-]`)

// contextName is the name under which the Dockerfile frontend looks up a
// named context for an image: its familiar form, ":latest" dropped.
func contextName(img string) (string, error) {
	named, err := reference.ParseNormalizedNamed(img)
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(reference.FamiliarString(named), ":latest"), nil
}

// readDockerfile reads a Dockerfile that is a regular file of a sane size:
// a symlink or a missing file is the builder's to report.
func readDockerfile(path string) ([]byte, error) {
	st, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() || st.Size() > 1<<20 {
		return nil, fmt.Errorf("%s: not a regular file under 1 MiB", path)
	}
	return os.ReadFile(path)
}

// Commands is the build as `buildctl` would run it against the same daemon:
// what --dry-run prints, to paste. Solve sends the same request through the
// Go client; no buildctl runs.
func (k BuildKit) Commands(s *Spec) ([]Command, error) {
	r, err := s.request()
	if err != nil {
		return nil, err
	}
	c := Command{"buildctl", "--addr", k.address(), "build", "--frontend", "dockerfile.v0",
		"--local", "context=" + r.context, "--local", "dockerfile=" + r.dockerfileDir}
	for _, key := range slices.Sorted(maps.Keys(r.frontend)) {
		if key != "cmdline" {
			c = append(c, "--opt", key+"="+r.frontend[key])
		}
	}
	if r.cache != nil {
		c = append(c, "--import-cache", attrs("type=registry", r.cache))
		if !s.CacheReadOnly {
			c = append(c, "--export-cache", attrs("type=registry", r.cacheExport()))
		}
	}
	return []Command{append(c, "--output", attrs("type=image", r.export))}, nil
}

// attrs is kind followed by m's pairs in key order, buildctl's form.
func attrs(kind string, m map[string]string) string {
	for _, key := range slices.Sorted(maps.Keys(m)) {
		kind += "," + key + "=" + m[key]
	}
	return kind
}

// cacheExport is the registry cache's export attributes: every step's
// layer (mode=max), not only the image's final ones, so that a heavy RUN
// step below a changed COPY is found again.
func (r *solveRequest) cacheExport() map[string]string {
	out := maps.Clone(r.cache)
	out["mode"] = "max"
	return out
}

// Solve builds s on the daemon and pushes it, printing one line per step
// to stdout (and each step's output as it comes), and writes the pushed
// digest to s.DigestFile when set.
func (k BuildKit) Solve(ctx context.Context, s *Spec, stdout, stderr io.Writer) error {
	r, err := s.request()
	if err != nil {
		return err
	}
	addr := k.address()
	c, err := connect(ctx, addr)
	if err != nil {
		return err
	}
	defer c.Close()
	contextFS, err := fsutil.NewFS(r.context)
	if err == nil {
		contextFS, err = fsutil.NewFilterFS(contextFS, &fsutil.FilterOpt{Map: changedAt(r.context)})
	}
	if err != nil {
		return fmt.Errorf("build context %s: %w", r.context, err)
	}
	dockerfileFS, err := fsutil.NewFS(r.dockerfileDir)
	if err != nil {
		return fmt.Errorf("dockerfile directory %s: %w", r.dockerfileDir, err)
	}
	opt := client.SolveOpt{
		Frontend:      "dockerfile.v0",
		FrontendAttrs: r.frontend,
		LocalMounts:   map[string]fsutil.FS{"context": contextFS, "dockerfile": dockerfileFS},
		Exports:       []client.ExportEntry{{Type: client.ExporterImage, Attrs: r.export}},
		Session:       []session.Attachable{registryLogins(stderr)},
		// The daemon keeps a copy of each context it was sent, found again
		// by this key, and sends only the files whose size or time
		// changed. One key per pair of directories: with one for all, a
		// tool's build would start from another tool's copy, and a file of
		// the same size and time there would be taken for its own.
		SharedKey: sharedKey(r.context, r.dockerfileDir),
	}
	if r.cache != nil {
		opt.CacheImports = []client.CacheOptionsEntry{{Type: "registry", Attrs: r.cache}}
		if !s.CacheReadOnly {
			opt.CacheExports = []client.CacheOptionsEntry{{Type: "registry", Attrs: r.cacheExport()}}
		}
	}
	ch := make(chan *client.SolveStatus)
	var resp *client.SolveResponse
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		var err error
		resp, err = c.Solve(gctx, nil, opt, ch)
		return err
	})
	g.Go(func() error {
		printSteps(ch, stdout)
		return nil
	})
	if err := g.Wait(); err != nil {
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		// gRPC's Unavailable, as grpc-go words it or as BuildKit passes
		// it on ("Unavailable: error reading from server: EOF").
		if msg := err.Error(); strings.Contains(msg, "code = Unavailable") || strings.Contains(msg, "Unavailable: ") {
			if isKubePod(addr) {
				return fmt.Errorf("the connection to buildkitd at %s was lost (its pod restarted or was deleted, or the API server went away; build again once it runs): %w", addr, err)
			}
			return fmt.Errorf("buildkitd at %s is not reachable (start one with scripts/buildkitd.sh start, or name one with --buildkit-addr or $BUILDKIT_HOST): %w", addr, err)
		}
		if strings.Contains(err.Error(), "no space left on device") {
			return fmt.Errorf("buildkitd at %s has no space left for its state: free some (buildctl prune, or a gckeepstorage in its buildkitd.toml below its volume's size) and build again: %w", addr, err)
		}
		return fmt.Errorf("buildkitd at %s: %w", addr, err)
	}
	dgst, err := digest.Parse(resp.ExporterResponse["containerimage.digest"])
	if err != nil {
		return fmt.Errorf("buildkitd at %s reported no image digest for %s: %w", addr, s.Image, err)
	}
	fmt.Fprintf(stdout, "buildkit: pushed %s@%s\n", s.Image, dgst)
	if s.DigestFile != "" {
		return atomicfile.Write(s.DigestFile, []byte(dgst.String()), 0o644)
	}
	return nil
}

// registryLogins answers the daemon's requests for registry logins from
// the Docker config ($DOCKER_CONFIG, else ~/.docker), as docker and buildctl
// do; nothing is stored in the daemon.
func registryLogins(stderr io.Writer) session.Attachable {
	// $DOCKER_CONFIG read now, not the directory docker/cli fixes once
	// per process.
	cfg, err := config.Load(os.Getenv("DOCKER_CONFIG"))
	if err != nil {
		fmt.Fprintf(stderr, "cwlbuild: the Docker config: %v; building without registry logins\n", err)
	}
	return authprovider.NewDockerAuthProvider(authprovider.DockerAuthProviderConfig{
		AuthConfigProvider: authprovider.LoadAuthConfig(cfg),
	})
}

// printSteps writes one line per step as it ends ("cached", its time, or
// its error) and each step's output as it comes, until ch is closed.
func printSteps(ch chan *client.SolveStatus, out io.Writer) {
	done := map[digest.Digest]bool{}
	for st := range ch {
		for _, l := range st.Logs {
			out.Write(l.Data)
		}
		for _, v := range st.Vertexes {
			if v.Completed == nil || done[v.Digest] {
				continue
			}
			done[v.Digest] = true
			switch {
			case v.Error != "":
				fmt.Fprintf(out, "buildkit: %s: failed: %s\n", v.Name, v.Error)
			case v.Cached:
				fmt.Fprintf(out, "buildkit: %s: cached\n", v.Name)
			case v.Started != nil:
				fmt.Fprintf(out, "buildkit: %s: %.1fs\n", v.Name, v.Completed.Sub(*v.Started).Seconds())
			default:
				fmt.Fprintf(out, "buildkit: %s: done\n", v.Name)
			}
		}
	}
}

// KubePodScheme names a buildkitd in a cluster:
// kube-pod://POD?namespace=NS&container=C (the kubeconfig's namespace and
// the pod's only container by default), as buildctl takes it. cwlbuild
// reaches the daemon by running `buildctl dial-stdio` in the pod through
// the API server (the agent, cwlbuild-calrissian exec), so the daemon
// listens on its pod's unix socket only.
const KubePodScheme = "kube-pod"

// connect is a client of the daemon at addr, which answers. For a
// kube-pod address each connection is `buildctl dial-stdio` run in the pod
// by the agent (cwlbuild-calrissian exec), as buildctl's own kube-pod
// helper runs it with kubectl. A pod the StatefulSet has just started runs
// before buildkitd listens in it: so the daemon is asked for its version
// until it answers, for up to a minute.
func connect(ctx context.Context, addr string) (*client.Client, error) {
	u, err := url.Parse(addr)
	if err != nil || u.Scheme != KubePodScheme {
		c, err := client.New(ctx, addr)
		if err != nil {
			return nil, fmt.Errorf("buildkitd at %s: %w", addr, err)
		}
		return c, nil
	}
	t, err := kubePod(u)
	if err != nil {
		return nil, fmt.Errorf("buildkitd address %s: %w", addr, err)
	}
	prog, err := agentapi.Find(" (it reaches the cluster's buildkitd)")
	if err != nil {
		return nil, err
	}
	args := []string{"exec", "--namespace=" + t.namespace, "--pod=" + t.pod}
	if t.container != "" {
		args = append(args, "--container="+t.container)
	}
	args = append(args, "--", "buildctl", "dial-stdio")
	dialer := func(context.Context, string) (net.Conn, error) {
		// The connection outlives the dial: not the dial's context.
		return commandconn.New(context.Background(), prog, args...)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		c, err := client.New(ctx, "", client.WithContextDialer(dialer))
		if err == nil {
			if err = answers(ctx, c); err == nil {
				return c, nil
			}
			c.Close()
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			return nil, fmt.Errorf("buildkitd at %s does not answer: %s", addr, agentError(err))
		}
		select {
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		case <-time.After(time.Second):
		}
	}
}

// UntrustedAddress is where an untrusted build (a fork's pull request)
// goes instead of addr: the namespace's second daemon when addr is the
// shared one of the buildkit cluster builder (kube-pod://buildkitd-0),
// else addr itself. It reports whether it changed addr.
func UntrustedAddress(addr string) (string, bool) {
	u, err := url.Parse(addr)
	if err != nil || u.Scheme != KubePodScheme || u.Host != builder.BuildKitPod {
		return addr, false
	}
	u.Host = builder.BuildKitUntrustedPod
	return u.String(), true
}

// isKubePod reports an address connect reaches through the agent.
func isKubePod(addr string) bool {
	u, err := url.Parse(addr)
	return err == nil && u.Scheme == KubePodScheme
}

// agentError is err, shortened to the agent's own last words when it
// carries them (commandconn quotes the command's stderr).
func agentError(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, agentapi.Program+": "); i >= 0 {
		msg = strings.TrimSpace(msg[i+len(agentapi.Program)+2:])
		msg = strings.TrimRight(msg, `"`)
		msg = strings.ReplaceAll(msg, `\n`, " ")
	}
	return msg
}

// answers asks the daemon for its version, within 10 seconds.
func answers(ctx context.Context, c *client.Client) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err := c.Info(ctx)
	return err
}

// podTarget is a kube-pod address, checked.
type podTarget struct {
	pod, namespace, container string
}

var dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)

// kubePod reads kube-pod://POD?namespace=NS&container=C, as buildctl
// does; the names are Kubernetes names, and nothing else may be in the
// address.
func kubePod(u *url.URL) (podTarget, error) {
	q := u.Query()
	t := podTarget{pod: u.Host, namespace: q.Get("namespace"), container: q.Get("container")}
	if !dnsLabel.MatchString(t.pod) || u.User != nil || (u.Path != "" && u.Path != "/") {
		return t, fmt.Errorf("write kube-pod://POD?namespace=NS, POD a pod's name")
	}
	for key := range q {
		if key != "namespace" && key != "container" {
			return t, fmt.Errorf("unknown parameter %q: namespace and container are known", key)
		}
	}
	if t.namespace != "" && !dnsLabel.MatchString(t.namespace) {
		return t, fmt.Errorf("namespace %q: name the pod's namespace, a Kubernetes name (none: the kubeconfig's)", t.namespace)
	}
	if t.container != "" && !dnsLabel.MatchString(t.container) {
		return t, fmt.Errorf("container %q: name a container of the pod, a Kubernetes name (none: its only one)", t.container)
	}
	return t, nil
}

// Daemon is what a buildkitd says of itself: its version and the
// platforms its workers build (the machine's own, and those the kernel
// runs through binfmt_misc emulators).
type Daemon struct {
	Version   string
	Platforms []string
}

// Reach asks the daemon at addr (any address BuildKit takes, or
// kube-pod://) for its version and its workers' platforms: what `cwlbuild
// check --cluster` says of the buildkit builder, before any build.
func Reach(ctx context.Context, addr string) (Daemon, error) {
	c, err := connect(ctx, addr)
	if err != nil {
		return Daemon{}, err
	}
	defer c.Close()
	info, err := c.Info(ctx)
	if err != nil {
		return Daemon{}, fmt.Errorf("buildkitd at %s: %w", addr, err)
	}
	workers, err := c.ListWorkers(ctx)
	if err != nil {
		return Daemon{}, fmt.Errorf("buildkitd at %s: %w", addr, err)
	}
	d := Daemon{Version: info.BuildkitVersion.Version}
	for _, w := range workers {
		for _, p := range w.Platforms {
			if pl := p.OS + "/" + p.Architecture + variant(p.Variant); !slices.Contains(d.Platforms, pl) {
				d.Platforms = append(d.Platforms, pl)
			}
		}
	}
	return d, nil
}

func variant(v string) string {
	if v == "" {
		return ""
	}
	return "/" + v
}

// sharedKey names the daemon's copy of a build's context: the absolute
// directories it is sent from, hashed.
func sharedKey(dirs ...string) string {
	h := sha256.New()
	for _, d := range dirs {
		if abs, err := filepath.Abs(d); err == nil {
			d = abs
		}
		h.Write([]byte(d))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// changedAt sends each file of the context with its change time as its
// time: the daemon's copy of the context is refreshed only for files whose
// size or time differ, and an edit that kept the size and put the old
// modification time back (cp -p, rsync -t, an archive unpacked) would
// otherwise leave the old content in the image. The change time moves with
// every write and cannot be set back. (For a checkout it is the
// modification time, give or take a second; a reproducible build sets
// every time anyway.)
func changedAt(root string) fsutil.MapFunc {
	return func(rel string, st *fstypes.Stat) fsutil.MapResult {
		var sys syscall.Stat_t
		if err := syscall.Lstat(filepath.Join(root, rel), &sys); err == nil {
			st.ModTime = sys.Ctim.Nano()
		}
		return fsutil.MapResultKeep
	}
}
