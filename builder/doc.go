// Package builder loads and validates project.toml, the declarative file of a
// CWL application package, and turns it into a build Plan: one artifact per
// command-line tool with its context, Dockerfile and image name for every
// profile (cluster, local, ttl).
//
// The plan is a plain value: the Skaffold renderer, the custom-builder
// backends, cwlpatch and the test runner all read it, and none of them reaches
// back into the TOML. Every error names project.toml, the line and the key, so
// a user can go straight to the mistake.
package builder
