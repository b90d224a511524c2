#!/usr/bin/env bash
# CI: fail (exit 1) if buf lint fails or the committed generated code in api/
# differs from what the pinned tools generate. Regenerates into the tree.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! scripts/gen-proto.sh; then
  echo "buf lint or buf generate failed" >&2
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
