// Package registry holds the conventions Docker users expect about registry
// hosts: which host an image name lives on, and that registries on the
// loopback interface (or listed as insecure) speak plain HTTP. It makes no
// network calls; internal/registry/remote does.
package registry

import (
	"net"
	"strings"
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
