package builder

import (
	"reflect"
	"strings"
	"testing"
)

// TestPlatforms: [build] platforms reaches every tool normalized, a tool's
// own list replaces it, and no key leaves the builder's own platform.
func TestPlatforms(t *testing.T) {
	toml := strings.Replace(base, `engine = "cluster"`, "engine = \"cluster\"\nplatforms = [\"linux/amd64\", \"linux/aarch64\"]", 1)
	toml = strings.Replace(toml, `secret = "push"`, "secret = \"push\"\nbuilder = \"buildkit\"", 1)
	toml += "platforms = [\"linux/arm/v7\"]\n" // tools.a's
	p, err := LoadProject(writeProject(t, toml))
	if err != nil {
		t.Fatal(err)
	}
	plan := NewPlan(p)
	got := map[string][]string{}
	for _, a := range plan.Artifacts {
		got[a.Tool] = a.Platforms
	}
	want := map[string][]string{"b": {"linux/amd64", "linux/arm64"}, "a": {"linux/arm/v7"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("platforms %v, want %v", got, want)
	}
	p, err = LoadProject(writeProject(t, base))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range NewPlan(p).Artifacts {
		if a.Platforms != nil {
			t.Errorf("no key: %s builds for %v", a.Tool, a.Platforms)
		}
	}
}
