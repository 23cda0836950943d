package imageref

// The conventions Docker users expect about registry hosts: which host an
// image name lives on, and that registries on the loopback interface (or
// listed as insecure) speak plain HTTP. No network calls here;
// internal/registry/remote makes them.

import (
	"fmt"
	"net"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// Host returns the registry host[:port] of an image reference as Docker,
// podman and Skaffold read it, "docker.io" for Docker Hub's short names.
func Host(image string) string {
	if host, _, ok := splitHost(image); ok {
		return host
	}
	return DockerHub
}

// RegistryHost is the host[:port] of a registry prefix as project.toml
// writes registries, mirrors and map targets ("harbor.example.com/dockerhub",
// "10.244.0.1:5001"): its first component, whatever it looks like.
func RegistryHost(prefix string) string {
	host, _, _ := strings.Cut(strings.TrimSuffix(prefix, "/"), "/")
	return host
}

// DockerHub is the name Docker gives Docker Hub's registry in image names.
const DockerHub = "docker.io"

// dockerHubAliases are the other host names of Docker Hub: one image may be
// spelt under any of them.
var dockerHubAliases = []string{"index.docker.io", "registry-1.docker.io"}

// IsDockerHub reports whether a registry host is Docker Hub under any of
// its names.
func IsDockerHub(host string) bool {
	return host == DockerHub || slices.Contains(dockerHubAliases, host)
}

// splitHost splits "host/path" when the first component names a registry
// the way Docker reads it: it holds a '.' or a ':', or is "localhost".
// (go-containerregistry, and so Kaniko, does not count "localhost" alone;
// see KanikoHost.)
func splitHost(name string) (host, path string, ok bool) {
	host, path, ok = strings.Cut(name, "/")
	if ok && (strings.ContainsAny(host, ".:") || host == "localhost") {
		return host, path, true
	}
	return "", name, false
}

// IsLoopback reports whether a registry host[:port] is on this machine:
// localhost or an address in 127.0.0.0/8 or ::1. Docker talks plain HTTP to
// those without being told, and so do we.
func IsLoopback(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// IsInsecure reports whether plain HTTP is allowed for the registry of an
// image: loopback registries always, others when listed in insecure.
func IsInsecure(image string, insecure []string) bool {
	host := Host(image)
	if IsLoopback(host) {
		return true
	}
	for _, h := range insecure {
		if strings.TrimSuffix(h, "/") == host {
			return true
		}
	}
	return false
}

// KanikoRepository checks an image name the way Kaniko (through
// go-containerregistry's pkg/name) reads a destination, and refuses a name
// Kaniko would push somewhere else than Docker, podman and Skaffold read it:
// go-containerregistry takes the first component for a host only when it
// holds a '.' or a ':', so "localhost/crop" is Docker Hub's "localhost/crop"
// to Kaniko; and it wants a repository path of at least two characters.
//
// These are the rules of the go-containerregistry Kaniko is built with
// (v0.20, see scripts/kaniko), written out here: newer versions, which this
// module links, take "localhost" for a host and accept one-character paths.
func KanikoRepository(image string) error {
	repo, err := name.NewRepository(image)
	if err != nil {
		return fmt.Errorf("Kaniko (go-containerregistry) refuses it: %v", err)
	}
	host := repo.RegistryStr()
	if first, rest, ok := strings.Cut(image, "/"); !ok || !strings.ContainsAny(first, ".:") {
		host = name.DefaultRegistry
		rest = image
		if !ok || first == "library" {
			rest = strings.TrimPrefix(image, "library/")
		}
		if len(rest) < 2 {
			return fmt.Errorf("Kaniko (go-containerregistry) refuses it: repository must be between 2 and 255 characters in length: %s", rest)
		}
	} else if len(rest) < 2 {
		return fmt.Errorf("Kaniko (go-containerregistry) refuses it: repository must be between 2 and 255 characters in length: %s", rest)
	}
	if host == name.DefaultRegistry {
		host = DockerHub
	}
	if want := Host(image); host != want && !(IsDockerHub(host) && IsDockerHub(want)) {
		return fmt.Errorf("Kaniko would push it to %s, not %s: name the registry with a port or a domain (%s:5000/...)", host, want, want)
	}
	return nil
}
