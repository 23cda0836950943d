// Package skaffold renders a build plan into a Skaffold configuration and
// reads back the build output Skaffold writes (build.json).
//
// The configuration is built as the pinned Skaffold's own schema types
// (latest.SkaffoldConfig) and encoded the way those types encode themselves,
// so the compiler checks every field name and a Skaffold upgrade is a
// version bump plus golden diffs to review.
package skaffold
