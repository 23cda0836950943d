package build

import "github.com/eoap/cwlbuild/builder"

// NewSpec is what a backend needs to build artifact a of plan p as image (a
// full reference) from context ("" is the artifact's own): its Dockerfile,
// target, build args, the project's Kaniko options and insecure
// registries, the labels of the build (revision and source included) and
// the time reproducible images carry and how.
func NewSpec(p *builder.Plan, a *builder.Artifact, image, context string) *Spec {
	if context == "" {
		context = a.Context
	}
	return &Spec{
		Image:      image,
		Context:    context,
		Dockerfile: a.Dockerfile,
		Target:     a.Target,
		BuildArgs:  a.BuildArgs,
		Platforms:  a.Platforms,
		Kaniko:     p.Kaniko.Options,
		Insecure:   p.Kaniko.Insecure,
		Labels:     p.BuildLabels(a),
		Timestamp:  p.Timestamp,
		// The same rule as the cluster's Kaniko pods: the pass over every
		// layer only when [build] reproducible = true is written.
		RewriteTimestamps: p.Kaniko.PodsReproducible,
	}
}
