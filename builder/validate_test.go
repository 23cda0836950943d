package builder

import "testing"

// TestCheckBuildKitAddress: a package names only a buildkitd on this
// machine (a unix socket, or tcp on loopback); a daemon elsewhere would get
// the build's registry logins through its session.
func TestCheckBuildKitAddress(t *testing.T) {
	for addr, ok := range map[string]bool{
		"unix:///run/buildkit/buildkitd.sock": true,
		"tcp://127.0.0.1:1234":                true,
		"tcp://localhost:1234":                true,
		"tcp://[::1]:1234":                    true,
		"unix://run/buildkitd.sock":           false,
		"unix:///run/../etc/x.sock":           false,
		"tcp://builder.example.com:1234":      false,
		"tcp://10.0.0.5:1234":                 false,
		"tcp://127.0.0.1:1234/x":              false,
		"tcp://user@127.0.0.1:1234":           false,
		"kube-pod://buildkitd-0":              false,
		"docker-container://buildkitd":        false,
		"/run/buildkit/buildkitd.sock":        false,
	} {
		if err := CheckBuildKitAddress(addr); (err == nil) != ok {
			t.Errorf("CheckBuildKitAddress(%q) = %v, want ok %v", addr, err, ok)
		}
	}
}
