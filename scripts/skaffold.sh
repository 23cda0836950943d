#!/usr/bin/env bash
# Runs the Skaffold pinned in scripts/skaffold/go.mod (built once into the Go
# build cache), from any directory: `scripts/skaffold.sh build -f ...`.
# Static, the one build scripts/setup.sh makes.
set -euo pipefail
bin=$(cd "$(dirname "$0")/skaffold" && CGO_ENABLED=0 go tool -n skaffold)
exec "$bin" "$@"
