#!/usr/bin/env bash
# CI: fail if buf lint fails or the committed generated code differs from
# what the pinned tools generate.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/gen-proto.sh
if ! git diff --exit-code -- api/; then
  echo "generated code in api/ is out of date: run scripts/gen-proto.sh and commit" >&2
  exit 1
fi
untracked=$(git ls-files --others --exclude-standard -- api/)
if [ -n "$untracked" ]; then
  printf 'generated files not committed:\n%s\n' "$untracked" >&2
  exit 1
fi
