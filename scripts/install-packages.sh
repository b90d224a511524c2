#!/usr/bin/env bash
# Installs the Debian packages some tests need, when they are missing:
# iproute2 (tests/wan: network namespaces) and chromium (the web console's
# browser tests). Needs root and apt-get; without them it says which tests
# will skip (under CI=true the browser test fails instead of skipping).
set -euo pipefail
missing=()
command -v ip >/dev/null 2>&1 || missing+=(iproute2)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "install-packages: ${missing[*]} missing and not root with apt-get: tests/wan or the console's browser test will skip" >&2
  exit 0
fi
echo "install-packages: installing ${missing[*]}" >&2
DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
