package builder

import (
	"path/filepath"
	"strings"
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

// Plan is what to build: one Artifact per tool, in file order.
type Plan struct {
	Project   *Project
	Artifacts []*Artifact
}

// Artifact is one tool's image build.
type Artifact struct {
	Tool string
	// Context is the absolute build context directory.
	Context string
	// Dockerfile is relative to Context, slash-separated.
	Dockerfile string
	Target     string
	BuildArgs  map[string]string
	// Images is the image name (no tag) under each profile's registry.
	Images map[Profile]string
}

// NewPlan derives the build plan of a loaded project.
func NewPlan(p *Project) *Plan {
	plan := &Plan{Project: p}
	for _, t := range p.OrderedTools() {
		plan.Artifacts = append(plan.Artifacts, &Artifact{
			Tool:       t.Name,
			Context:    p.Abs(t.Context),
			Dockerfile: filepath.ToSlash(t.Dockerfile),
			Target:     t.Target,
			BuildArgs:  t.BuildArgs,
			Images: map[Profile]string{
				ProfileCluster: p.ImageName(t, ProfileCluster),
				ProfileLocal:   p.ImageName(t, ProfileLocal),
				ProfileTTL:     p.ImageName(t, ProfileTTL),
			},
		})
	}
	return plan
}

// DefaultProfile is the profile [build] engine selects.
func (p *Project) DefaultProfile() Profile {
	if p.Build.Engine == EngineLocal {
		return ProfileLocal
	}
	return ProfileCluster
}

// Registry returns the registry (host and optional path) of a profile.
func (p *Project) Registry(prof Profile) string {
	switch prof {
	case ProfileLocal:
		return strings.TrimSuffix(p.Build.Local.Registry, "/")
	case ProfileTTL:
		return strings.TrimSuffix(p.Build.TTL.Registry, "/")
	default:
		return strings.TrimSuffix(p.Build.Cluster.Registry, "/")
	}
}

// ImageName is the image a tool is built as under a profile: its own image
// when set, else REGISTRY/TOOL as the shell Taskfile named it. On the ttl
// registry, a shared anonymous namespace, it is REGISTRY/PROJECT-TOOL: two
// tools never collide, nor do two packages' tools of one name.
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
