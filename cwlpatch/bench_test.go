package cwlpatch

import (
	"fmt"
	"testing"

	"github.com/eoap/cwlbuild/builder"
	"github.com/eoap/cwlbuild/internal/synth"
	"github.com/eoap/cwlbuild/skaffold/buildjson"
)

// BenchmarkPatch measures what `cwlpatch build.json` does short of the
// rename: load project.toml, read the build output, match, parse the packed
// file and compute every edit, for one packed file of n tools.
func BenchmarkPatch(b *testing.B) {
	for _, n := range []int{10, 100, 1000, 10000} {
		b.Run(fmt.Sprintf("tools=%d", n), func(b *testing.B) {
			pkg, err := synth.Write(b.TempDir(), n)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				p, err := builder.Load(pkg.Project, builder.LoadOptions{})
				if err != nil {
					b.Fatal(err)
				}
				out, err := buildjson.ReadFile(pkg.BuildJSON, nil)
				if err != nil {
					b.Fatal(err)
				}
				matches, _, err := matchBuilds(p, out, "build.json", builder.PinTagDigest)
				if err != nil {
					b.Fatal(err)
				}
				res, err := planEdits(p, matches)
				if err != nil {
					b.Fatal(err)
				}
				if len(res.Pinned) != n || len(res.Changed()) != 1 {
					b.Fatalf("%d pinned, %d files changed", len(res.Pinned), len(res.Changed()))
				}
			}
		})
	}
}
