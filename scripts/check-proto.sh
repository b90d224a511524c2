#!/usr/bin/env bash
# CI: fail (exit 1) if buf lint fails, if the API breaks compatibility with
# the last released one (api/released/iant-v1.binpb: old clients must keep
# working), or if the committed generated code in api/ differs from what
# the pinned tools generate. Regenerates into the tree.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! scripts/gen-proto.sh; then
  echo "buf lint or buf generate failed" >&2
  exit 1
fi
if ! go tool -modfile=tools/go.mod buf breaking --against api/released/iant-v1.binpb; then
  echo "the API breaks compatibility with the last released one (api/released/iant-v1.binpb): add fields and RPCs, never change or remove them" >&2
  exit 1
fi
if ! git diff --exit-code -- api/; then
  echo "generated code in api/ is out of date: run scripts/gen-proto.sh and commit" >&2
  exit 1
fi
untracked=$(git ls-files --others --exclude-standard -- api/)
if [ -n "$untracked" ]; then
  printf 'files in api/ not committed:\n%s\n' "$untracked" >&2
  exit 1
fi
