// Package registry answers the questions cwlbuild and cwlpatch ask a
// container registry, with the conventions Docker users expect: credentials
// from the Docker config (DOCKER_CONFIG, ~/.docker/config.json) and plain
// HTTP for registries on the loopback interface.
package registry

import (
	"context"
	"fmt"
	"net"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Host returns the registry host[:port] of an image reference, "docker.io"
// for Docker Hub's short names.
func Host(image string) string {
	first, _, found := strings.Cut(image, "/")
	if found && (strings.ContainsAny(first, ".:") || first == "localhost") {
		return first
	}
	return "docker.io"
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

// Digest asks the registry for the digest of image (a tag reference), using
// the Docker config's credentials.
func Digest(ctx context.Context, image string, insecure []string) (string, error) {
	var opts []name.Option
	if IsInsecure(image, insecure) {
		opts = append(opts, name.Insecure)
	}
	ref, err := name.ParseReference(image, opts...)
	if err != nil {
		return "", fmt.Errorf("%s: %v", image, err)
	}
	desc, err := remote.Head(ref, remote.WithContext(ctx), remote.WithAuthFromKeychain(authn.DefaultKeychain))
	if err != nil {
		return "", fmt.Errorf("%s: %v", image, err)
	}
	return desc.Digest.String(), nil
}
