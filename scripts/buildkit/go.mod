// The version of buildkitd, the daemon of the buildkit runtime, that
// scripts/buildkitd.sh builds and starts: the same as the BuildKit client in
// the root go.mod (build's tests check), so client and daemon speak one
// protocol. It is built inside BuildKit's own module source (`go install`
// of its commands is refused: its go.mod has exclude directives), so this
// module only pins the version.
module github.com/eoap/cwlbuild/scripts/buildkit

go 1.26.8

require github.com/moby/buildkit v0.30.0
