package builder

import (
	"fmt"
	"slices"

	"github.com/containerd/platforms"
)

// toolPlatforms are t's platforms ([tools.NAME] platforms, else [build]
// platforms), normalized, or an error naming the key: a platform that is
// not os/arch[/variant] of linux, one written twice, or several where a
// builder would not make an index of them (the kaniko local runtime: one
// executor, one platform per run). The cluster's kaniko builder makes one
// of them, with a pod per platform (`cwlbuild plugin --backend kaniko
// --cluster`), not with Skaffold's Kaniko pods.
func (p *Project) toolPlatforms(t *Tool) ([]string, error) {
	key, list := "build.platforms", p.Build.Platforms
	if len(t.Platforms) > 0 {
		key, list = "tools."+t.Name+".platforms", t.Platforms
	}
	if len(list) == 0 {
		// Empty is unset (a TOML encoder writes a nil list so): the
		// builder's own platform.
		return nil, nil
	}
	var out []string
	for _, s := range list {
		norm, err := NormalizePlatform(s)
		if err != nil {
			return nil, p.Errorf(key, "%s %q: %v", key, s, err)
		}
		if slices.Contains(out, norm) {
			return nil, p.Errorf(key, "%s: %q is written twice (as %s)", key, s, norm)
		}
		out = append(out, norm)
	}
	if len(out) > 1 {
		if p.Build.Local.Runtime == RuntimeKaniko {
			return nil, p.Errorf(key, `%s: %d platforms, but [build.local] runtime = "kaniko" builds one: use "buildah", "podman" or "buildkit"`, key, len(out))
		}
	}
	return out, nil
}

// NormalizePlatform is s as OCI image indexes write it ("linux/arm64",
// "linux/arm/v7"), or an error when s is not os/arch[/variant] of linux.
func NormalizePlatform(s string) (string, error) {
	pl, err := platforms.Parse(s)
	if err != nil {
		return "", fmt.Errorf("not os/arch[/variant]: %v", err)
	}
	if pl.OS != "linux" {
		return "", fmt.Errorf("only linux images run CWL tools, not %s", pl.OS)
	}
	return platforms.Format(platforms.Normalize(pl)), nil
}
