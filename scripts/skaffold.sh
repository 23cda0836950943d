#!/usr/bin/env bash
# Runs the Skaffold pinned in scripts/skaffold/go.mod (built once into the Go
# build cache), from any directory: `scripts/skaffold.sh build -f ...`.
set -euo pipefail
bin=$(cd "$(dirname "$0")/skaffold" && go tool -n skaffold)
exec "$bin" "$@"
