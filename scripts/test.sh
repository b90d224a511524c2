#!/usr/bin/env bash
# The project's test command (README, "Two commands"): installs what the
# tests need that Go modules do not bring — SPIRE v1.13.3, pinned in
# tools/spire and built once into a cache (minutes the first time), and
# the Debian packages iproute2 and chromium (scripts/install-packages.sh)
# — and runs every test with the race detector. Extra arguments go to go test,
# e.g. scripts/test.sh -run Fault -v.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-packages.sh
IANT_SPIRE_DIR="${IANT_SPIRE_DIR:-$(scripts/install-spire.sh)}"
export IANT_SPIRE_DIR
exec go test -race "$@" ./...
