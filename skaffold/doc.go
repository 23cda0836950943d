// Package skaffold renders a build plan into a Skaffold configuration, using
// Skaffold's own schema types (pkg/skaffold/schema/latest) so the file is
// whatever the pinned Skaffold version accepts, and reads back the build
// output Skaffold writes (build.json).
package skaffold
