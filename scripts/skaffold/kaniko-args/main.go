// Command kaniko-args prints, as JSON, the arguments and environment that
// Skaffold's cluster builder gives the Kaniko container of one artifact of
// a Skaffold config (read from stdin): Skaffold's own kaniko.Args, for tests
// that run those arguments in a Kaniko container.
//
//	kaniko-args -profile cluster -artifact 0 -image REPO:TAG < skaffold-auto.yaml
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"github.com/GoogleContainerTools/skaffold/v2/pkg/skaffold/build/kaniko"
	"github.com/GoogleContainerTools/skaffold/v2/pkg/skaffold/schema/latest"
	"gopkg.in/yaml.v3"
)

func main() {
	profile := flag.String("profile", "cluster", "profile whose artifact to read")
	index := flag.Int("artifact", 0, "artifact index in the profile")
	image := flag.String("image", "", "image reference to build")
	flag.Parse()
	var cfg latest.SkaffoldConfig
	if err := yaml.NewDecoder(os.Stdin).Decode(&cfg); err != nil {
		fail(err)
	}
	for _, p := range cfg.Profiles {
		if p.Name != *profile {
			continue
		}
		if *index >= len(p.Build.Artifacts) || p.Build.Artifacts[*index].KanikoArtifact == nil {
			fail(fmt.Errorf("profile %s has no kaniko artifact %d", *profile, *index))
		}
		art := p.Build.Artifacts[*index].KanikoArtifact
		args, err := kaniko.Args(art, *image, "dir://"+kaniko.DefaultEmptyDirMountPath)
		if err != nil {
			fail(err)
		}
		env := map[string]string{}
		for _, e := range art.Env {
			env[e.Name] = e.Value
		}
		json.NewEncoder(os.Stdout).Encode(map[string]any{"args": args, "env": env, "context": kaniko.DefaultEmptyDirMountPath})
		return
	}
	fail(fmt.Errorf("no profile %s", *profile))
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "kaniko-args:", err)
	os.Exit(1)
}
