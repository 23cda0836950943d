// Package builder loads and validates project.toml, the declarative file of a
// CWL application package, and resolves it into a Plan: one value, typed and
// fully defaulted, with one artifact per command-line tool (context,
// Dockerfile, build args, its image under every profile, the CWL processes
// that run it) and the engine, runtime, registries, Kaniko and cluster
// options.
//
// The plan is the contract: the Skaffold renderer, the custom-builder
// backends, cwlpatch and the test runner all read it, and none of them reaches
// back into the TOML or sets a default of its own. Every error names
// project.toml, the line and the key, so a user can go straight to the
// mistake.
//
// The files: project.go is the TOML model and decoding, validate.go the
// checks, positions.go the line index, plan.go the plan, diagnostic.go the
// one shape every check reports in. Image builds from a plan live in the
// public package build (backends, the Kaniko lock, tarballs, build.json);
// image names in internal/imageref.
package builder
