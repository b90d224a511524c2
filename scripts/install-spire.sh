#!/usr/bin/env bash
# Build pinned spire-server and spire-agent (SPIRE v1.13.3) into a cache dir,
# once, and print that dir on stdout.
#
#   dir=$(scripts/install-spire.sh)
#   export IANT_SPIRE_DIR="$dir"        # read by tests/spire
#
# Why not `go install github.com/spiffe/spire/cmd/spire-server@v1.13.3`: the
# module proxy reachable here refuses the module's version list, which
# `go install pkg@version` fetches. Building the tools of a module that pins
# spire (tools/spire/go.mod, go.sum, `tool` directives) needs no version list
# and checks every module against go.sum, so the build is reproducible.
#
# The cache dir is ${IANT_TOOLS_DIR:-$HOME/.cache/iant/tools}/spire-v1.13.3.
# A build is skipped when both binaries are there and the stamp beside them
# matches tools/spire/go.mod, go.sum and the build flags; otherwise they are rebuilt into a temporary dir
# and moved into place, so an interrupted build never leaves half a cache.
# A cold build takes about 10 minutes on 2 idle cores: SPIRE's datastore uses the
# cgo sqlite3 driver, so gcc is needed (installed with apt-get if missing).
# Progress goes to stderr; only the dir goes to stdout.
set -euo pipefail

version=v1.13.3
root="$(cd "$(dirname "$0")/.." && pwd)"
mod="$root/tools/spire"
dir="${IANT_TOOLS_DIR:-$HOME/.cache/iant/tools}/spire-$version"
# The release builds stamp the version the same way (spire's Makefile);
# without it the binaries call themselves 1.13.3-dev-unk.
ldflags="-X github.com/spiffe/spire/pkg/common/version.gittag=${version#v}"
stamp="$({ cat "$mod/go.mod" "$mod/go.sum"; echo "$ldflags"; } | sha256sum | cut -d' ' -f1)"

if [ -x "$dir/spire-server" ] && [ -x "$dir/spire-agent" ] &&
  [ "$(cat "$dir/.stamp" 2>/dev/null)" = "$stamp" ]; then
  echo "$dir"
  exit 0
fi

if ! command -v gcc >/dev/null 2>&1; then
  echo "install-spire: gcc missing (needed by cgo sqlite3); installing with apt-get" >&2
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-spire: not root: install gcc yourself and run again" >&2
    exit 1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gcc libc6-dev >&2
fi

mkdir -p "$(dirname "$dir")"
tmp="$(mktemp -d "$(dirname "$dir")/.spire-build.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
chmod 0755 "$tmp"

echo "install-spire: building spire-server and spire-agent $version into $dir (a cold build takes minutes)" >&2
start=$(date +%s)
(
  cd "$mod"
  # -mod=readonly: go.mod and go.sum are the pin; never rewrite them here.
  # GOWORK=off: a go.work above the repo must not change what is built.
  CGO_ENABLED=1 GOWORK=off GOFLAGS="-mod=readonly -buildvcs=false" \
    go build -trimpath -ldflags "$ldflags" -o "$tmp/" \
    github.com/spiffe/spire/cmd/spire-server \
    github.com/spiffe/spire/cmd/spire-agent
) >&2
"$tmp/spire-server" --version >&2
echo "$stamp" >"$tmp/.stamp"

rm -rf "$dir"
mv "$tmp" "$dir"
trap - EXIT
echo "install-spire: built in $(($(date +%s) - start)) s" >&2
echo "$dir"
