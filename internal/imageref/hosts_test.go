package imageref

import (
	"strings"
	"testing"
)

func TestHost(t *testing.T) {
	for image, want := range map[string]string{
		"busybox":                         "docker.io",
		"library/busybox":                 "docker.io",
		"eoap/crop":                       "docker.io",
		"localhost/crop":                  "localhost",
		"localhost:5000/eoap/crop":        "localhost:5000",
		"127.0.0.1:5000/eoap/crop":        "127.0.0.1:5000",
		"ghcr.io/eoap/crop":               "ghcr.io",
		"[::1]:5000/crop":                 "[::1]:5000",
		"registry.internal:5000/x/y/crop": "registry.internal:5000",
	} {
		if got := Host(image); got != want {
			t.Errorf("Host(%q) = %q, want %q", image, got, want)
		}
	}
}

func TestIsInsecure(t *testing.T) {
	listed := []string{"registry.internal:5000/"}
	for image, want := range map[string]bool{
		"localhost:5000/crop":              true,
		"localhost/crop":                   true,
		"127.0.0.1:5000/crop":              true,
		"127.8.9.10:5000/crop":             true,
		"[::1]:5000/crop":                  true,
		"registry.internal:5000/eoap/crop": true,
		"registry.internal/eoap/crop":      false,
		"ghcr.io/eoap/crop":                false,
		"eoap/crop":                        false,
		"localhost.example.com/crop":       false,
		"10.0.0.1:5000/crop":               false,
	} {
		if got := IsInsecure(image, listed); got != want {
			t.Errorf("IsInsecure(%q) = %v, want %v", image, got, want)
		}
	}
}

// TestKanikoRepository: names Kaniko reads as Docker does pass; a one- or
// 256-character repository path and a bare "localhost" host are refused.
func TestKanikoRepository(t *testing.T) {
	long := "ghcr.io/" + strings.Repeat("a", 256)
	for image, ok := range map[string]bool{
		"ghcr.io/eoap/crop":         true,
		"localhost:5000/crop":       true,
		"127.0.0.1:5000/pkg/crop":   true,
		"eoap/crop":                 true,
		"busybox":                   true,
		"docker.io/library/busybox": true,
		"index.docker.io/eoap/crop": true,
		"ghcr.io/ab":                true,
		"ghcr.io/a":                 false,
		"a":                         false,
		"localhost/crop":            false,
		long:                        false,
		long[:len(long)-1]:          true,
	} {
		if err := KanikoRepository(image); (err == nil) != ok {
			t.Errorf("KanikoRepository(%q) = %v, want ok=%v", image, err, ok)
		}
	}
}

func TestRegistryHost(t *testing.T) {
	for prefix, want := range map[string]string{
		"mirror.gcr.io":                "mirror.gcr.io",
		"harbor.example.com/dockerhub": "harbor.example.com",
		"10.244.0.1:5001/":             "10.244.0.1:5001",
		"localhost":                    "localhost",
	} {
		if got := RegistryHost(prefix); got != want {
			t.Errorf("RegistryHost(%q) = %q, want %q", prefix, got, want)
		}
	}
}
