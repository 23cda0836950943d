package interop

import (
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/GoogleContainerTools/skaffold/v2/pkg/skaffold/util"
	"github.com/pelletier/go-toml/v2"

	"github.com/eoap/cwlbuild/builder"
	"github.com/eoap/cwlbuild/skaffold"
)

// fullProject sets every key of project.toml that can reach a Skaffold
// config (TestEveryStringIsLiteral fails when the model gains a string this
// file does not set).
const fullProject = `[project]
name = "full"
version = "1.0.0"
description = "d"
repository = "https://example.org/pkg"

[build]
engine = "cluster"
reproducible = true
platforms = ["linux/amd64"]

[build.local]
runtime = "podman"
registry = "localhost:5000/full"
push = true
concurrency = 1

[build.cluster]
namespace = "ns"
serviceAccount = "sa"
registry = "ghcr.io/eoap/full"
secret = "push"

[build.kaniko]
image = "ghcr.io/osscontainertools/kaniko:v1.28.2"
initImage = "localhost:5000/busybox:1"
registryMirrors = ["mirror.example"]
registryMap = { "index.docker.io" = "harbor.example/hub" }
snapshotMode = "redo"
insecureRegistries = ["localhost:5000"]
timeout = "20m"

[build.kaniko.cache]
repo = "ghcr.io/eoap/full/cache"
ttl = "24h"

[build.kaniko.resources.requests]
cpu = "1"
memory = "1Gi"
ephemeralStorage = "1Gi"

[build.kaniko.resources.limits]
cpu = "2"
memory = "2Gi"
ephemeralStorage = "2Gi"

[build.ttl]
registry = "ttl.sh"
duration = "2h"

[build.calrissian]
image = "ghcr.io/eoap/calrissian:0.14.0"
initImage = "busybox:1.36"
serviceAccount = "calrissian-sa"
namespace = "tests"
claim = "data"
storageClass = "rwx"
volumeSize = "2Gi"
startTimeout = "2m"
timeout = "30m"

[release]
sbom = "spdx"
externalImages = ["docker.io/library/python"]

[tools.t]
context = "ctx"
path = "app.cwl#t"
dockerfile = "Dockerfile"
target = "final"
image = "ghcr.io/eoap/full/tool"
buildArgs = { A = "a" }
platforms = ["linux/amd64"]

[[tools.t.tests]]
name = "n"
description = "d"
params = { x = "y" }
expect = { out = "Any" }
timeout = "10m"
tags = ["unit"]
execution.cluster = { max_ram = "1G", max_cores = "2", pod_serviceaccount = "sa", usage_report = "u.json", tool_logs_basepath = "logs", namespace = "ns", calrissian_image = "ghcr.io/eoap/calrissian:0.14.0" }
execution.paths = { volume = "v", stdout = "o", stderr = "e", tmp_outdir_prefix = "t", outdir = "out" }

[[workflows]]
path = "app.cwl#t"

[[tests.suites]]
path = "suite.yaml"
urls = { "https://example.org/app.cwl" = "app.cwl" }
timeout = "5m"
`

// payload would, evaluated as a Skaffold template, run a command and read a
// secret from the environment.
func payload(marker string) string {
	return `{{cmd "sh" "-c" "touch ` + marker + `"}}{{.CWLBUILD_TEST_SECRET}}`
}

// stringSite is one string of a decoded project.toml: where it is, and how
// to set it.
type stringSite struct {
	key   string
	field string // "Type.Field" of the struct holding it
	set   func(string)
}

// projectStrings finds, by reflection over the project model, every string
// a decoded project holds: fields, map values, list items, `any` values.
func projectStrings(v reflect.Value, key, field string, set func(reflect.Value), out *[]stringSite) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			projectStrings(v.Elem(), key, field, nil, out)
		}
	case reflect.Interface:
		if !v.IsNil() {
			c := reflect.New(v.Elem().Type()).Elem()
			c.Set(v.Elem())
			projectStrings(c, key, field, func(n reflect.Value) { v.Set(n) }, out)
		}
	case reflect.String:
		setter := func(s string) {
			n := reflect.New(v.Type()).Elem()
			n.SetString(s)
			if set != nil {
				set(n)
			} else {
				v.Set(n)
			}
		}
		*out = append(*out, stringSite{key: key, field: field, set: setter})
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			projectStrings(v.Index(i), key+"."+strconv.Itoa(i), field, nil, out)
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			e := v.MapIndex(k)
			c := reflect.New(e.Type()).Elem()
			c.Set(e)
			projectStrings(c, key+"."+k.String(), field, func(n reflect.Value) { v.SetMapIndex(k, n) }, out)
		}
	case reflect.Struct:
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
			if !f.IsExported() || name == "" || name == "-" {
				continue
			}
			projectStrings(v.Field(i), strings.TrimPrefix(key+"."+name, "."), t.Name()+"."+f.Name, nil, out)
		}
	}
}

// modelStringFields lists every "Type.Field" of the project model that holds
// strings, however deep.
func modelStringFields(t reflect.Type, seen map[reflect.Type]bool, out map[string]bool) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || seen[t] {
		return
	}
	seen[t] = true
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
		if !f.IsExported() || name == "" || name == "-" {
			continue
		}
		ft := f.Type
		for ft.Kind() == reflect.Pointer || ft.Kind() == reflect.Slice || ft.Kind() == reflect.Map {
			ft = ft.Elem()
		}
		switch ft.Kind() {
		case reflect.String, reflect.Interface:
			out[t.Name()+"."+f.Name] = true
		case reflect.Struct:
			modelStringFields(ft, seen, out)
		}
	}
}

// TestEveryStringIsLiteral is the property behind "an untrusted package
// never runs code through Skaffold": each string of project.toml, found by
// reflection over the project model, in turn holds a payload that runs a
// command and reads a secret when evaluated as a Go template. Either the
// load refuses it, naming its key, or, for every engine and runtime, every
// string of the generated config, evaluated with Skaffold's own template
// code, runs nothing and reads no secret.
func TestEveryStringIsLiteral(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "ctx"), 0o755)
	os.WriteFile(filepath.Join(dir, "ctx", "Dockerfile"), []byte("FROM scratch AS final\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "app.cwl"), []byte("cwlVersion: v1.2\nclass: CommandLineTool\nid: t\n"), 0o644)
	base := filepath.Join(dir, "base.toml")
	os.WriteFile(base, []byte(fullProject), 0o644)
	opts := builder.LoadOptions{SkipCWL: true, SkipTests: true}
	if _, err := builder.LoadProjectWith(base, opts); err != nil {
		t.Fatalf("the full project does not load: %v", err)
	}
	marker := filepath.Join(dir, "pwned")
	t.Setenv("CWLBUILD_TEST_SECRET", "hunter2")

	fresh := func() *builder.Project {
		p, err := builder.LoadProjectWith(base, opts)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	var sites []stringSite
	projectStrings(reflect.ValueOf(fresh()).Elem(), "", "", nil, &sites)
	want := map[string]bool{}
	modelStringFields(reflect.TypeFor[builder.Project](), map[reflect.Type]bool{}, want)
	for _, s := range sites {
		delete(want, s.field)
	}
	for f := range want {
		t.Errorf("the model's %s holds strings that fullProject does not set: add it", f)
	}

	variants := []struct{ engine, runtime string }{
		{"cluster", "podman"}, {"local", "docker"}, {"local", "podman"}, {"local", "buildah"}, {"local", "kaniko"},
	}
	loaded := 0
	for i := range sites {
		for _, v := range variants {
			p := fresh()
			var all []stringSite
			projectStrings(reflect.ValueOf(p).Elem(), "", "", nil, &all)
			site := all[i]
			p.Build.Engine = builder.Engine(v.engine)
			p.Build.Local.Runtime = builder.Runtime(v.runtime)
			if v.runtime == "kaniko" {
				p.Build.Local.Concurrency = nil
			}
			site.set("x" + payload(marker))
			data, err := toml.Marshal(p)
			if err != nil {
				t.Fatalf("%s: %v", site.key, err)
			}
			file := filepath.Join(dir, "project.toml")
			os.WriteFile(file, data, 0o644)
			plan, err := builder.Load(file, opts)
			if err != nil {
				if !strings.Contains(err.Error(), "{{") && !strings.Contains(err.Error(), site.key) {
					t.Errorf("%s (%s): refused without naming it: %v", site.key, v, err)
				}
				continue
			}
			loaded++
			cfg, _, err := skaffold.Generate(plan, skaffold.Options{})
			if err != nil {
				continue // refused while rendering: nothing reaches Skaffold
			}
			for _, s := range configStrings(decodeSkaffold(t, cfg)) {
				got, err := util.ExpandEnvTemplate(s, nil)
				if err == nil && strings.Contains(got, "hunter2") {
					t.Errorf("%s (%s): %q evaluates to a secret", site.key, v, s)
				}
			}
			if _, err := os.Stat(marker); err == nil {
				t.Fatalf("%s (%s): a value ran a command through Skaffold's templates", site.key, v)
			}
		}
	}
	if loaded == 0 {
		t.Fatal("no hostile value loaded: the property says nothing")
	}
	t.Logf("%d strings of project.toml, %d variants: %d loads rendered and evaluated, the rest refused", len(sites), len(variants), loaded)
}

// configStrings is every string of a decoded Skaffold config.
func configStrings(v any) []string {
	var out []string
	var walk func(reflect.Value)
	walk = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.Pointer, reflect.Interface:
			if !v.IsNil() {
				walk(v.Elem())
			}
		case reflect.String:
			out = append(out, v.String())
		case reflect.Slice, reflect.Array:
			for i := 0; i < v.Len(); i++ {
				walk(v.Index(i))
			}
		case reflect.Map:
			for _, k := range v.MapKeys() {
				walk(k)
				walk(v.MapIndex(k))
			}
		case reflect.Struct:
			for i := 0; i < v.NumField(); i++ {
				if v.Type().Field(i).IsExported() {
					walk(v.Field(i))
				}
			}
		}
	}
	walk(reflect.ValueOf(v))
	return out
}
