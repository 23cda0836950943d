// Package build runs image builds from a plan, outside Skaffold's own
// builders: one image with a Backend (Kaniko, Buildah, Podman: what
// `cwlbuild plugin` does as Skaffold's custom builder), or every tool to a
// tarball with Kaniko, recording build.json for cwlpatch (`cwlbuild tar`).
// It is the library half of those commands, as ko's pkg/build is of ko:
// the commands only wire flags to Options.
//
// A Backend turns a Spec into argv, never a shell string; a Runner runs one
// command (Exec by default; a test swaps it). Kaniko builds take a lock for
// the container they run in: the executor rewrites the container's root
// filesystem, so two at once corrupt each other's images.
//
// The files: backend.go the backends and their argv, spec.go a Spec from a
// plan, run.go the Runner, image.go Image and the Kaniko lock, tarballs.go
// Tarballs and build.json.
package build
