// Package skaffold renders a build plan into a Skaffold configuration and
// reads back the build output Skaffold writes (build.json).
//
// The configuration is the pinned Skaffold's schema (APIVersion), written by
// a small YAML writer in the key order and quoting Skaffold's own schema
// types encode to. The tests hold it to those types byte for byte; the
// binary does not link them, since they bring the Kubernetes API with them.
package skaffold
