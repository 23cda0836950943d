package builder

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/eoap/cwlbuild/internal/synth"
)

// BenchmarkLoadProject measures parsing and validating project.toml (every
// context, Dockerfile and CWL file is stat'ed) for packages of growing size.
func BenchmarkLoadProject(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		b.Run(fmt.Sprintf("tools=%d", n), func(b *testing.B) {
			dir := b.TempDir()
			if _, err := synth.Write(dir, n); err != nil {
				b.Fatal(err)
			}
			file := filepath.Join(dir, "project.toml")
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := LoadProject(file); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
