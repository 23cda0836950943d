package registry

import "testing"

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
