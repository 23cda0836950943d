package builder

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/eoap/cwlbuild/internal/imageref"
)

// validate checks what the decoder cannot: values, files on disk, image
// names. It collects every problem so one run shows them all.
func (p *Project) validate() error {
	defer func() { p.stats, p.reals = nil, nil }()
	var errs Errors
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	var cwlFiles []string // checked: in the project, regular files
	b := &p.Build
	switch b.Engine {
	case EngineCluster, EngineLocal:
	case "":
		add(p.Errorf("build", "[build] engine is not set: use %q or %q", EngineCluster, EngineLocal))
	default:
		add(p.Errorf("build.engine", "build.engine %q: must be %q or %q", b.Engine, EngineCluster, EngineLocal))
	}
	if !slices.Contains(Runtimes, b.Local.Runtime) {
		add(p.Errorf("build.local.runtime", "build.local.runtime %q: must be %s", b.Local.Runtime, OneOf(Runtimes)))
	}
	if !slices.Contains(ClusterBuilders, b.Cluster.Builder) {
		add(p.Errorf("build.cluster.builder", "build.cluster.builder %q: must be %s", b.Cluster.Builder, OneOf(ClusterBuilders)))
	}
	if !slices.Contains(BuildKitCaches, b.Cluster.BuildKitCache) {
		add(p.Errorf("build.cluster.buildkitCache", "build.cluster.buildkitCache %q: must be %s", b.Cluster.BuildKitCache, OneOf(BuildKitCaches)))
	} else if b.Cluster.BuildKitCache == BuildKitCacheRegistry && p.Registry(ProfileCluster) == "" && (b.Kaniko.Cache == nil || b.Kaniko.Cache.Repo == "") {
		add(p.Errorf("build.cluster.buildkitCache", `build.cluster.buildkitCache = "registry" needs a repository: set [build.cluster] registry (the cache is REGISTRY/cache) or [build.kaniko.cache] repo`))
	}
	if a := b.Local.BuildKitAddress; a != "" {
		if err := CheckBuildKitAddress(a); err != nil {
			add(p.Errorf("build.local.buildkitAddress", "build.local.buildkitAddress %q: %v", a, err))
		}
	}
	if c := b.Kaniko.Cache; c != nil && c.Repo != "" {
		// A repository, no tag: Kaniko keys its layers by tag, BuildKit
		// adds one per image.
		if err := checkImageName(c.Repo); err != nil {
			add(p.Errorf("build.kaniko.cache.repo", "build.kaniko.cache.repo %q: %v", c.Repo, err))
		}
	}
	if b.Kaniko.Image != "" {
		if err := checkReference(b.Kaniko.Image); err != nil {
			add(p.Errorf("build.kaniko.image", "build.kaniko.image %q: %v", b.Kaniko.Image, err))
		} else if isFloating(b.Kaniko.Image) {
			add(p.Errorf("build.kaniko.image", "build.kaniko.image %q: pin a version tag or digest, not a floating tag", b.Kaniko.Image))
		}
	}
	if b.Kaniko.InitImage != "" {
		if err := checkReference(b.Kaniko.InitImage); err != nil {
			add(p.Errorf("build.kaniko.initImage", "build.kaniko.initImage %q: %v", b.Kaniko.InitImage, err))
		}
	}
	for from, to := range b.Kaniko.RegistryMap {
		for _, t := range strings.Split(to, ";") {
			if strings.TrimSuffix(strings.TrimSpace(t), "/") == "" {
				add(p.Errorf("build.kaniko.registryMap."+from, "build.kaniko.registryMap.%q = %q: an empty registry; write \"a\" or \"a;b\" (tried in turn)", from, to))
				break
			}
		}
	}
	if v := p.Project.Version; v != "" && (!imageref.ValidTag(v) || len(v) > 100) {
		add(p.Errorf("project.version", "[project] version %q: it tags the images and releases, so letters, digits, '_', '.' and '-' only, not starting with '.' or '-', at most 100 characters", v))
	}
	if d := b.TTL.Duration; !validTTL(d) {
		add(p.Errorf("build.ttl.duration", "build.ttl.duration %q: want a number and a unit, s, m, h or d (2h, 30m, 1d)", d))
	}
	for key, c := range map[string]*int{"build.local.concurrency": b.Local.Concurrency, "build.kaniko.concurrency": b.Kaniko.Concurrency} {
		if c != nil && *c < 0 {
			add(p.Errorf(key, "%s = %d: want 0 (no limit) or more", key, *c))
		}
	}
	if c := b.Local.Concurrency; c != nil && *c != 1 && b.Local.Runtime == RuntimeKaniko {
		add(p.Errorf("build.local.concurrency", "build.local.concurrency = %d: the kaniko runtime builds one image at a time (every executor in a container rewrites the container's root filesystem, so two at once corrupt each other's images); remove the key or set 1", *c))
	}
	images := map[string]string{} // image -> tool, per profile-qualified key
	noImage := map[string]bool{}
	for _, t := range p.OrderedTools() {
		key := "tools." + t.Name
		if !validToolName(t.Name) {
			add(p.Errorf(key, "tool name %q: use lowercase letters, digits, '.', '_' and '-', starting with a letter or digit (it names the image and files)", t.Name))
			continue
		}
		if !p.opts.SkipContexts {
			add(p.checkContext(t, key))
		} else if t.Context != "" {
			// No file is read, but a context that leaves the project is
			// refused by every command alike.
			add(p.checkInside(t.Context, key+".context"))
		}
		_, err := p.toolPlatforms(t)
		add(err)
		paths, err := p.toolPaths(t, key+".path")
		add(err)
		t.Paths = paths
		for i, ref := range paths {
			add(checkNotOption(p, ref, t.PathKey(i)))
			if !p.opts.SkipCWL {
				if err := p.checkCWLFile(ref, t.PathKey(i)); err != nil {
					add(err)
				} else {
					cwlFiles = append(cwlFiles, ref)
				}
			}
		}
		for _, prof := range Profiles {
			img := p.ImageName(t, prof)
			if p.Registry(prof) == "" && t.Image == "" {
				// The same rule under every profile: a bare name would be
				// pushed to Docker Hub's library namespace. (local and
				// cluster share a registry when only one is set.)
				if !noImage[t.Name] {
					noImage[t.Name] = true
					add(p.Errorf(key, "tool %q has no image under profile %s: set build.local.registry or build.cluster.registry, or tools.%s.image", t.Name, prof, t.Name))
				}
				continue
			}
			if err := checkImageName(img); err != nil {
				field := key
				if t.Image != "" {
					field = key + ".image"
				}
				add(p.Errorf(field, "tool %q: invalid image name %q under profile %s: %v", t.Name, img, prof, err))
				continue
			}
			// Like a missing registry, only an error for the profile
			// [build] engine selects; the others may never be built.
			if prof == p.DefaultProfile() && p.kanikoBuilds(prof) {
				if err := imageref.KanikoRepository(img); err != nil {
					add(p.Errorf(key, "tool %q: image %q under profile %s: %v; set build.%s.registry or tools.%s.image", t.Name, img, prof, err, prof, t.Name))
					continue
				}
			}
			k := string(prof) + "\x00" + img
			if other, dup := images[k]; dup {
				add(p.Errorf(key, "tools %q and %q both build image %q", other, t.Name, img))
				continue
			}
			images[k] = t.Name
		}
	}
	switch p.Release.SBOM {
	case "spdx", "cyclonedx", "none":
	default:
		add(p.Errorf("release.sbom", "release.sbom %q: want \"spdx\", \"cyclonedx\" or \"none\"", p.Release.SBOM))
	}
	for _, err := range append(p.checkCluster(), p.checkCalrissian()...) {
		add(err)
	}
	if !p.opts.SkipTests {
		// A suite's cases are read against the CWL files above; their
		// inputs were checked where their job files write them.
		suites, suiteErrs := p.loadSuites()
		p.suiteTests = suites
		for _, err := range suiteErrs {
			add(err)
		}
		for _, tp := range p.testPlans() {
			for _, err := range p.checkTestPaths(tp) {
				add(err)
			}
			if tp.Suite != "" {
				continue
			}
			for _, err := range p.checkTestInputs(tp) {
				p.confine(err, add)
			}
			for _, err := range p.checkTestCluster(tp) {
				add(err)
			}
		}
	}
	for i, w := range p.Workflows {
		key := fmt.Sprintf("workflows.%d", i)
		if w.Path == "" {
			add(p.Errorf(key, "workflows[%d].path is not set", i))
			continue
		}
		add(checkNotOption(p, w.Path, key+".path"))
		if !p.opts.SkipCWL {
			if err := p.checkCWLFile(w.Path, key+".path"); err != nil {
				add(err)
			} else {
				cwlFiles = append(cwlFiles, w.Path)
			}
		}
	}
	// The inputs the CWL files name, which the tests would hand the tools.
	if !p.opts.SkipTests {
		seen := map[string]bool{}
		for _, ref := range cwlFiles {
			if file, _ := SplitProcessRef(ref); file != "" && !seen[file] {
				seen[file] = true
				for _, err := range p.checkCWLInputs(file) {
					p.confine(err, add)
				}
			}
		}
	}
	errs = append(errs, p.refuseTemplates()...)
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// refuseTemplates refuses "{{" in every string of project.toml that can
// reach a Skaffold config, but for the free texts that only reach fields
// the renderer escapes as template literals ([project] description, build
// args' values) and the tests, which Skaffold never sees. Skaffold
// evaluates many of its fields as Go templates with the environment ({{cmd
// ...}}, {{.CI_REGISTRY_PASSWORD}}); the renderer escapes those it knows,
// and no brace ever reaches the others.
func (p *Project) refuseTemplates() []error {
	var errs []error
	var walk func(v reflect.Value, key string)
	walk = func(v reflect.Value, key string) {
		if templateFree(key) {
			return
		}
		switch v.Kind() {
		case reflect.Pointer, reflect.Interface:
			if !v.IsNil() {
				walk(v.Elem(), key)
			}
		case reflect.String:
			if strings.Contains(v.String(), "{{") {
				errs = append(errs, p.Errorf(key, "%s %q: \"{{\" is not allowed here (Skaffold would evaluate it as a template)", key, v.String()))
			}
		case reflect.Slice, reflect.Array:
			for i := 0; i < v.Len(); i++ {
				walk(v.Index(i), fmt.Sprintf("%s.%d", key, i))
			}
		case reflect.Map:
			for _, k := range v.MapKeys() {
				name := fmt.Sprint(k.Interface())
				if strings.Contains(name, "{{") {
					errs = append(errs, p.Errorf(key, "%s: the key %q: \"{{\" is not allowed here (Skaffold would evaluate it as a template)", key, name))
					continue
				}
				walk(v.MapIndex(k), key+"."+name)
			}
		case reflect.Struct:
			t := v.Type()
			for i := 0; i < t.NumField(); i++ {
				name := tomlName(t.Field(i))
				if name == "" || name == "-" {
					continue
				}
				if key != "" {
					name = key + "." + name
				}
				walk(v.Field(i), name)
			}
		}
	}
	walk(reflect.ValueOf(p).Elem(), "")
	return errs
}

// templateFree reports the keys whose values may hold "{{" (see
// refuseTemplates).
func templateFree(key string) bool {
	parts := strings.Split(key, ".")
	switch {
	case key == "project.description":
		return true
	case len(parts) == 4 && parts[0] == "tools" && parts[2] == "buildArgs":
		return true
	}
	return slices.Contains(parts, "tests")
}

// PathKey is the project.toml key of a tool's i-th path, as errors name it:
// "tools.crop.path", or "tools.rio.path.1" when path is a list.
func (t *Tool) PathKey(i int) string {
	if _, list := t.RawPath.([]any); list {
		return fmt.Sprintf("tools.%s.path.%d", t.Name, i)
	}
	return "tools." + t.Name + ".path"
}

// toolPaths reads tools.NAME.path, one "FILE#ID" or a list of them, with an
// error at its line for anything else.
func (p *Project) toolPaths(t *Tool, key string) ([]string, error) {
	switch v := t.RawPath.(type) {
	case nil:
		return nil, p.Errorf("tools."+t.Name, "%s is not set: name the CWL process as \"FILE#ID\" (or a list of them)", key)
	case string:
		return []string{v}, nil
	case []any:
		if len(v) == 0 {
			return nil, p.Errorf(key, "%s is an empty list: name at least one CWL process as \"FILE#ID\"", key)
		}
		out := make([]string, 0, len(v))
		seen := map[string]bool{}
		for i, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, p.Errorf(fmt.Sprintf("%s.%d", key, i), "%s[%d]: want a string \"FILE#ID\", not %T", key, i, e)
			}
			if seen[s] {
				return nil, p.Errorf(fmt.Sprintf("%s.%d", key, i), "%s[%d]: %q is listed twice", key, i, s)
			}
			seen[s] = true
			out = append(out, s)
		}
		return out, nil
	}
	return nil, p.Errorf(key, "%s: want \"FILE#ID\" or a list of them, not %T", key, t.RawPath)
}

func (p *Project) checkContext(t *Tool, key string) error {
	if t.Context == "" {
		return p.Errorf(key, "tools.%s.context is not set", t.Name)
	}
	if err := p.checkInside(t.Context, key+".context"); err != nil {
		return err
	}
	dir := p.Abs(t.Context)
	st, err := p.stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return p.Errorf(key+".context", "tools.%s.context %q: no such directory", t.Name, t.Context)
	case err != nil:
		return p.Errorf(key+".context", "tools.%s.context %q: %v", t.Name, t.Context, err)
	case !st.IsDir():
		return p.Errorf(key+".context", "tools.%s.context %q: not a directory", t.Name, t.Context)
	}
	df := filepath.Join(dir, filepath.FromSlash(t.Dockerfile))
	if clean := filepath.Clean(filepath.FromSlash(t.Dockerfile)); !filepath.IsLocal(clean) {
		return p.Errorf(key+".dockerfile", "tools.%s.dockerfile %q: outside the context %q; the Dockerfile must be inside it", t.Name, t.Dockerfile, t.Context)
	}
	if real, err := p.evalSymlinks(df); err == nil {
		if realCtx, err := p.evalSymlinks(dir); err == nil && !within(realCtx, real) {
			return p.Errorf(key+".dockerfile", "tools.%s.dockerfile %q: a symlink to %s, outside the context %q", t.Name, t.Dockerfile, real, t.Context)
		}
	}
	st, err = p.stat(df)
	if err != nil || !st.Mode().IsRegular() {
		field := key + ".context"
		if t.Dockerfile != DefaultDockerfile {
			field = key + ".dockerfile"
		}
		return p.Errorf(field, "tools.%s: no %s in context %q", t.Name, t.Dockerfile, t.Context)
	}
	return nil
}

// checkInside refuses a path that leaves the project directory, unless the
// project was loaded with AllowOutsidePaths: lexically ("..", an absolute
// path), and, when the path exists, after resolving symlinks, so that a
// link inside the project cannot lead out of it.
func (p *Project) checkInside(path, key string) error {
	if p.opts.AllowOutsidePaths {
		return nil
	}
	clean := filepath.Clean(filepath.FromSlash(path))
	if filepath.IsAbs(clean) || !filepath.IsLocal(clean) && clean != "." {
		return p.Errorf(key, "%s %q: outside the project directory (allow with --allow-outside-paths)", key, path)
	}
	if real, err := p.evalSymlinks(p.Abs(path)); err == nil && !within(p.realDir(), real) {
		return p.Errorf(key, "%s %q: a symlink to %s, outside the project directory (allow with --allow-outside-paths)", key, path, real)
	}
	return nil
}

// realDir is the project directory with symlinks resolved.
func (p *Project) realDir() string {
	if p.realDirCache == "" {
		p.realDirCache = p.Dir
		if real, err := filepath.EvalSymlinks(p.Dir); err == nil {
			p.realDirCache = real
		}
	}
	return p.realDirCache
}

// within reports whether target is base or below it (both clean and
// absolute).
func within(base, target string) bool {
	rel, err := filepath.Rel(base, target)
	return err == nil && (rel == "." || filepath.IsLocal(rel))
}

// confine is what becomes of a test input outside the package (or remote):
// an error for a run (ConfineTestVolumes), where the engine would hand it
// to the tool; a warning for the commands that run no test, as for a test
// volume outside the project.
func (p *Project) confine(err error, add func(error)) {
	if p.opts.ConfineTestVolumes {
		add(err)
	} else {
		p.Warnings = append(p.Warnings, err)
	}
}

// checkTestPaths confines a test's files: every file the engine writes to
// the volume (the run creates or truncates them), and the volume to the
// project. A volume outside it (a Calrissian volume mount such as
// /calrissian, as published packages write) is refused only where the run
// would write there, with ConfineTestVolumes, unless AllowOutsidePaths; a
// warning otherwise.
func (p *Project) checkTestPaths(tp *TestPlan) []error {
	var errs []error
	switch e := tp.raw.Expect.(type) {
	case nil, map[string]any:
	case string:
		key := tp.Key + ".expect"
		if err := p.checkInside(e, key); err != nil {
			errs = append(errs, err)
		} else if st, err := os.Stat(tp.ExpectFile); err != nil || !st.Mode().IsRegular() {
			errs = append(errs, p.Errorf(key, "%s %q: no such file (a JSON or YAML file of the expected output object)", key, e))
		}
	default:
		key := tp.Key + ".expect"
		errs = append(errs, p.Errorf(key, "%s: write the expected output object as a table, or the path of a JSON or YAML file holding it", key))
	}
	if _, err := testTimeout(tp.raw.Timeout); err != nil {
		errs = append(errs, p.Errorf(tp.Key+".timeout", "%s.timeout: %v", tp.Key, err))
	}
	if tp.ShouldFail && tp.raw.Expect != nil {
		errs = append(errs, p.Errorf(tp.Key+".should_fail", "%s: should_fail = true and expect: a run that must fail has no output to expect; keep one", tp.Key))
	}
	paths, cl := tp.raw.Execution.Paths, tp.raw.Execution.Cluster
	if paths.Volume != "" {
		if err := p.checkInside(paths.Volume, tp.Key+".execution.paths.volume"); err != nil {
			if p.opts.ConfineTestVolumes {
				errs = append(errs, err)
			} else {
				p.Warnings = append(p.Warnings, err)
			}
		}
	}
	for _, f := range []struct{ key, value, resolved string }{
		{"paths.stdout", paths.Stdout, tp.Stdout}, {"paths.stderr", paths.Stderr, tp.Stderr}, {"paths.outdir", paths.Outdir, tp.Outdir},
		{"paths.tmp_outdir_prefix", paths.TmpOutdirPrefix, tp.TmpOutdirPrefix},
		{"cluster.usage_report", cl.UsageReport, tp.UsageReport}, {"cluster.tool_logs_basepath", cl.ToolLogsBasepath, tp.ToolLogsBasepath},
	} {
		if f.value == "" {
			continue
		}
		if target := filepath.Clean(f.resolved); !within(tp.Volume, target) || target == tp.Volume {
			k := tp.Key + ".execution." + f.key
			errs = append(errs, p.Errorf(k, "%s %q: outside the test's volume %s; the run would create or truncate it there", k, f.value, tp.Volume))
		}
	}
	return errs
}

// k8sName is a Kubernetes object name (an RFC 1123 subdomain: accounts,
// secrets, claims, storage classes); k8sLabel an RFC 1123 label
// (namespaces). Both are Kubernetes' own validation, which the API server
// applies later, in the middle of a run; neither lets a name start with
// '-', so none reads as an option where it reaches an argv.
var (
	k8sName  = validation.IsDNS1123Subdomain
	k8sLabel = validation.IsDNS1123Label
)

// checkCluster checks the names [build.cluster] gives Kubernetes, each
// under its own key.
func (p *Project) checkCluster() []error {
	c := p.Build.Cluster
	var errs []error
	for _, f := range []struct {
		key, value string
		valid      func(string) []string
	}{
		{"build.cluster.namespace", c.Namespace, k8sLabel},
		{"build.cluster.serviceAccount", c.ServiceAccount, k8sName},
		{"build.cluster.secret", c.Secret, k8sName},
	} {
		if err := p.checkK8sName(f.key, f.value, f.valid); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// checkCalrissian checks [build.calrissian]: the images pinned, the names
// Kubernetes accepts, the size a quantity, the bounds durations.
func (p *Project) checkCalrissian() []error {
	c := p.Build.Calrissian
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	add(p.checkPinnedImage("build.calrissian.image", c.Image))
	if c.InitImage != "" {
		if err := checkReference(c.InitImage); err != nil {
			add(p.Errorf("build.calrissian.initImage", "build.calrissian.initImage %q: %v", c.InitImage, err))
		}
	}
	if c.Namespace != p.Build.Cluster.Namespace { // else checked as build.cluster.namespace
		add(p.checkK8sName("build.calrissian.namespace", c.Namespace, k8sLabel))
	}
	add(p.checkK8sName("build.calrissian.serviceAccount", c.ServiceAccount, k8sName))
	add(p.checkK8sName("build.calrissian.claim", c.Claim, k8sName))
	add(p.checkK8sName("build.calrissian.storageClass", c.StorageClass, k8sName))
	if _, err := resource.ParseQuantity(c.VolumeSize); err != nil {
		add(p.Errorf("build.calrissian.volumeSize", "build.calrissian.volumeSize %q: not a Kubernetes quantity (\"1Gi\", \"500Mi\")", c.VolumeSize))
	}
	for _, d := range []struct{ key, value string }{{"startTimeout", c.StartTimeout}, {"timeout", c.Timeout}} {
		if v, err := time.ParseDuration(d.value); err != nil || v <= 0 {
			add(p.Errorf("build.calrissian."+d.key, "build.calrissian.%s %q: not a positive duration (\"90s\", \"10m\", \"1h\")", d.key, d.value))
		}
	}
	return errs
}

// checkTestCluster checks a test's own Calrissian image and namespace.
func (p *Project) checkTestCluster(tp *TestPlan) []error {
	cl := tp.raw.Execution.Cluster
	var errs []error
	if err := p.checkPinnedImage(tp.Key+".execution.cluster.calrissian_image", cl.CalrissianImage); err != nil {
		errs = append(errs, err)
	}
	if err := p.checkK8sName(tp.Key+".execution.cluster.namespace", cl.Namespace, k8sLabel); err != nil {
		errs = append(errs, err)
	}
	if err := p.checkK8sName(tp.Key+".execution.cluster.pod_serviceaccount", cl.PodServiceAccount, k8sName); err != nil {
		errs = append(errs, err)
	}
	return errs
}

// checkPinnedImage refuses an image reference that does not parse or
// floats (no tag, or latest): a run must not change under the user's feet.
func (p *Project) checkPinnedImage(key, ref string) error {
	if ref == "" {
		return nil
	}
	if err := checkReference(ref); err != nil {
		return p.Errorf(key, "%s %q: %v", key, ref, err)
	}
	if isFloating(ref) {
		return p.Errorf(key, "%s %q: pin a version tag or digest, not a floating tag", key, ref)
	}
	return nil
}

// checkK8sName refuses what the Kubernetes API would refuse later, in the
// middle of a run.
func (p *Project) checkK8sName(key, name string, valid func(string) []string) error {
	if name == "" {
		return nil
	}
	if problems := valid(name); len(problems) > 0 {
		return p.Errorf(key, "%s %q: not a Kubernetes name: %s", key, name, strings.Join(problems, "; "))
	}
	return nil
}

// checkNotOption refuses a CWL reference that starts with '-': cwltool and
// Calrissian take it as an argument, and it must never read as an option.
func checkNotOption(p *Project, ref, key string) error {
	if strings.HasPrefix(ref, "-") {
		return p.Errorf(key, "%s %q: starts with '-', which cwltool would read as an option; write ./%s", key, ref, ref)
	}
	return nil
}

// checkCWLFile checks that the file part of "FILE#ID" exists. Whether the id
// is in it is cwlpatch's business (`cwlbuild check` asks it).
func (p *Project) checkCWLFile(ref, key string) error {
	file, _ := SplitProcessRef(ref)
	if file == "" {
		return p.Errorf(key, "%s %q: no file before '#'", key, ref)
	}

	if err := p.checkInside(file, key); err != nil {
		return err
	}
	st, err := p.stat(p.Abs(file))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return p.Errorf(key, "%s %q: no such file", key, file)
	case err != nil:
		return p.Errorf(key, "%s %q: %v", key, file, err)
	case !st.Mode().IsRegular():
		return p.Errorf(key, "%s %q: not a regular file", key, file)
	}
	return nil
}

type statResult struct {
	info fs.FileInfo
	err  error
}

type realResult struct {
	path string
	err  error
}

// stat is os.Stat remembered for the length of one validation: every tool of
// a packed workflow names the same CWL file, and tools may share a context.
func (p *Project) stat(path string) (fs.FileInfo, error) {
	if r, ok := p.stats[path]; ok {
		return r.info, r.err
	}
	info, err := os.Stat(path)
	if p.stats == nil {
		p.stats = map[string]statResult{}
	}
	p.stats[path] = statResult{info: info, err: err}
	return info, err
}

// evalSymlinks is filepath.EvalSymlinks remembered for the length of one
// validation, like stat.
func (p *Project) evalSymlinks(path string) (string, error) {
	if r, ok := p.reals[path]; ok {
		return r.path, r.err
	}
	real, err := filepath.EvalSymlinks(path)
	if p.reals == nil {
		p.reals = map[string]realResult{}
	}
	p.reals[path] = realResult{real, err}
	return real, err
}

// SplitProcessRef splits "FILE#ID" into its file and id; the id is "" for a
// reference to a single-process document. A leading '#' on the id is dropped.
func SplitProcessRef(ref string) (file, id string) {
	file, id, _ = strings.Cut(ref, "#")
	return file, id
}

// kanikoBuilds reports whether profile prof builds with Kaniko: in the
// cluster, or through `cwlbuild plugin --backend kaniko`. (ttl builds with
// the default profile's builder.)
func (p *Project) kanikoBuilds(prof Profile) bool {
	return builderProfile(prof, p.Build.Engine) == ProfileCluster || p.Build.Local.Runtime == RuntimeKaniko
}

// validToolName: [a-z0-9][a-z0-9._-]*, what an image path component and a
// file name both allow; "../x" or "a b" would leave the output directory or
// split an argument.
func validToolName(name string) bool {
	if name == "" || len(name) > 128 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || i > 0 && (c == '.' || c == '_' || c == '-') {
			continue
		}
		return false
	}
	return true
}

// validTTL: a ttl.sh tag, digits and one unit (2h, 30m, 1d). It becomes a
// Skaffold envTemplate, so nothing else may pass.
func validTTL(d string) bool {
	if len(d) < 2 || len(d) > 6 || !strings.ContainsRune("smhd", rune(d[len(d)-1])) {
		return false
	}
	return strings.Trim(d[:len(d)-1], "0123456789") == ""
}

// checkImageName rejects what no registry accepts (see imageref.ValidName).
func checkImageName(img string) error { return imageref.ValidName(img) }

// checkReference checks a full image reference, "name[:tag][@digest]".
func checkReference(ref string) error {
	r, err := imageref.Split(ref)
	if err != nil {
		return err
	}
	return checkImageName(r.Repo)
}

// isFloating reports an image reference that can change under the user:
// no tag, or "latest", and no digest.
func isFloating(ref string) bool {
	r, err := imageref.Split(ref)
	return err == nil && r.Digest == "" && (r.Tag == "" || r.Tag == "latest")
}

// OneOf lists names as a message does: "a", "b" or "c".
func OneOf[T ~string](names []T) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(string(n))
	}
	if len(q) < 2 {
		return strings.Join(q, "")
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}

// CheckBuildKitAddress accepts the buildkitd addresses a package may name:
// a unix socket (unix:///absolute/path) or tcp to this machine
// (tcp://127.0.0.1:1234, tcp://localhost:1234). A daemon elsewhere gets the
// build context, and the session the build opens answers its requests for
// registry logins: only the user names one ($BUILDKIT_HOST,
// --buildkit-addr), never a package.
func CheckBuildKitAddress(addr string) error {
	scheme, rest, ok := strings.Cut(addr, "://")
	switch {
	case !ok:
		return fmt.Errorf("not an address: write unix:///path/to/buildkitd.sock or tcp://127.0.0.1:PORT")
	case scheme == "unix":
		if !path.IsAbs(rest) || path.Clean(rest) != rest {
			return fmt.Errorf("a unix socket is an absolute, clean path: unix:///run/buildkit/buildkitd.sock")
		}
		return nil
	case scheme == "tcp":
		host, port, err := net.SplitHostPort(rest)
		if err != nil || port == "" || strings.ContainsAny(rest, "/?#@") {
			return fmt.Errorf("tcp://HOST:PORT with nothing after the port")
		}
		if !imageref.IsLoopback(host) {
			return fmt.Errorf("%s is not this machine: a package may name only a buildkitd on loopback (it would receive the build's registry logins); name another daemon with $BUILDKIT_HOST or --buildkit-addr", host)
		}
		return nil
	default:
		return fmt.Errorf("scheme %q: a package may name unix:// or loopback tcp://; other kinds of address (kube-pod://, docker-container://) come from $BUILDKIT_HOST or --buildkit-addr", scheme)
	}
}
