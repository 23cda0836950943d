package skaffold

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eoap/cwlbuild/builder"
)

// synthProject writes a project of n tools, listed in reverse alphabetical
// order, each with its own context and Dockerfile.
func synthProject(b *testing.B, n int) string {
	b.Helper()
	dir := b.TempDir()
	var toml strings.Builder
	toml.WriteString("[project]\nname = \"bench\"\n\n[build]\nengine = \"cluster\"\n\n[build.cluster]\nnamespace = \"ns\"\nserviceAccount = \"sa\"\nregistry = \"ghcr.io/eoap\"\nsecret = \"push\"\n")
	os.WriteFile(filepath.Join(dir, "app.cwl"), []byte("cwlVersion: v1.2\n$graph: []\n"), 0o644)
	for i := n - 1; i >= 0; i-- {
		name := fmt.Sprintf("tool%05d", i)
		ctx := filepath.Join(dir, "tools", name)
		os.MkdirAll(ctx, 0o755)
		os.WriteFile(filepath.Join(ctx, "Dockerfile"), []byte("FROM scratch\n"), 0o644)
		fmt.Fprintf(&toml, "\n[tools.%s]\ncontext = \"tools/%s\"\npath = \"app.cwl#%s\"\n\n[[tools.%s.tests]]\nname = \"t\"\n[tools.%s.tests.params]\nx = 1\n", name, name, name, name, name)
	}
	file := filepath.Join(dir, "project.toml")
	os.WriteFile(file, []byte(toml.String()), 0o644)
	return file
}

// BenchmarkGenerate measures load + validate + render + marshal, what
// `cwlbuild generate` does, for packages of growing size.
func BenchmarkGenerate(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("tools=%d", n), func(b *testing.B) {
			file := synthProject(b, n)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				p, err := builder.Load(file, builder.LoadOptions{})
				if err != nil {
					b.Fatal(err)
				}
				if _, _, err := Generate(p, Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRender measures render + marshal alone, on a loaded project.
func BenchmarkRender(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		b.Run(fmt.Sprintf("tools=%d", n), func(b *testing.B) {
			p, err := builder.Load(synthProject(b, n), builder.LoadOptions{})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, _, err := Generate(p, Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
