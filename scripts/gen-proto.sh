#!/usr/bin/env bash
# Lint and regenerate the protobuf Go code in api/ with the buf and plugin
# versions pinned in tools/go.mod. Nothing is installed globally and no remote
# plugin is used.
set -euo pipefail
cd "$(dirname "$0")/.."
buf() { go tool -modfile=tools/go.mod buf "$@"; }
buf lint
# buf generate never deletes output, so remove the old generated files first:
# code for a deleted or renamed .proto must not linger in the tree.
find api -type f -name '*.pb.go' -delete
buf generate
