#!/usr/bin/env bash
# Lint and regenerate the protobuf Go code in api/ with the buf and plugin
# versions pinned in tools/go.mod.
set -euo pipefail
cd "$(dirname "$0")/.."
buf() { go tool -modfile=tools/go.mod buf "$@"; }
buf lint
buf generate
