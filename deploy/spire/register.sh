#!/usr/bin/env bash
# Register IANT identities with a SPIRE server: one registration entry per
# node or person, in the SPIFFE ID scheme of pkg/identity (DESIGN.md,
# "Identity"):
#
#   spiffe://<td>/state/<CC>/node/<name>          state-node  CC name
#   spiffe://<td>/state/<CC>/focal-point/<name>   focal-point CC name
#   spiffe://<td>/state/<CC>/analyst/<name>       analyst     CC name
#   spiffe://<td>/secretariat/node/<name>         secretariat-node name
#   spiffe://<td>/secretariat/auditor/<name>      auditor     name
#
# Usage:
#   register.sh token <host>                     print a join token for the agent on <host>
#   register.sh state-node  <CC> <name> <selector>...
#   register.sh focal-point <CC> <name> <selector>...
#   register.sh analyst     <CC> <name> <selector>...
#   register.sh secretariat-node <name> <selector>...
#   register.sh auditor     <name> <selector>...
#
# A selector is SPIRE's type:value, e.g. unix:uid:1001 (the agent's unix
# workload attestor, deploy/spire/agent.conf). Every entry is parented to
# the agent of one host, spiffe://<td>/host/<host> — the ID `token` gives
# that agent — so an SVID is handed out only on that host, to the processes
# the selectors match. Example, all on one host "box" (see docs/deployment.md, "SPIRE"):
#
#   export SPIRE_HOST=box
#   token=$(register.sh token box)
#   register.sh secretariat-node node unix:uid:1000
#   register.sh state-node  MX node  unix:uid:1001
#   register.sh focal-point MX focal unix:uid:1101
#   register.sh analyst     US analyst unix:uid:1102
#
# Environment:
#   SPIRE_SERVER         spire-server binary (default: spire-server on PATH)
#   SPIRE_SERVER_SOCKET  the server's admin socket (default /run/spire/server/api.sock)
#   IANT_TRUST_DOMAIN    trust domain (default iant.test)
#   SPIRE_HOST           host whose agent may hand out the entries (required for entries)
#   SPIRE_X509_SVID_TTL  SVID lifetime in seconds (default: the server's default_x509_svid_ttl)
#   SPIRE_TOKEN_TTL      join token lifetime in seconds (default 600)
#
# Running it again is harmless: an entry that already exists is reported
# and left as it is. The join token is printed on stdout only; keep it out
# of logs and shell history, it is a one-time secret.
set -euo pipefail

server="${SPIRE_SERVER:-spire-server}"
socket="${SPIRE_SERVER_SOCKET:-/run/spire/server/api.sock}"
td="${IANT_TRUST_DOMAIN:-iant.test}"

usage() {
  sed -n '/^# Usage:/,/^# A selector/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
  exit 2
}

die() {
  echo "register: $*" >&2
  exit 1
}

# check_state and check_name mirror identity.Principal.Validate; the node
# also checks the state is a member, which this script does not know.
check_state() { [[ "$1" =~ ^[A-Z]{2}$ ]] || die "state code \"$1\": want two capital letters, e.g. MX"; }
check_name() {
  [[ "$1" =~ ^[a-z0-9._-]{1,64}$ && "$1" != "." && "$1" != ".." ]] ||
    die "name \"$1\": want 1 to 64 of a-z, 0-9, '-', '_' and '.'"
}

# token prints a join token for the agent of host $1. The agent's SPIFFE ID
# becomes spiffe://<td>/host/$1, the parent of that host's entries.
token() {
  check_name "$1"
  local out
  out=$("$server" token generate -socketPath "$socket" -ttl "${SPIRE_TOKEN_TTL:-600}" \
    -spiffeID "spiffe://$td/host/$1") || die "token generate for host $1 failed"
  # Output is "Token: <uuid>".
  [[ "$out" =~ Token:\ ([0-9a-f-]+) ]] || die "token generate: unexpected output"
  echo "${BASH_REMATCH[1]}"
}

# entry creates the entry of SPIFFE ID $1 with selectors $2...
entry() {
  local id="$1"
  shift
  [ $# -gt 0 ] || die "$id: give at least one selector, e.g. unix:uid:1001"
  [ -n "${SPIRE_HOST:-}" ] || die "SPIRE_HOST is not set: name the host whose agent hands out $id"
  check_name "$SPIRE_HOST"
  local args=(entry create -socketPath "$socket" -parentID "spiffe://$td/host/$SPIRE_HOST" -spiffeID "$id")
  local s
  for s in "$@"; do
    [[ "$s" =~ ^[a-z0-9_-]+:.+$ ]] || die "selector \"$s\": want type:value, e.g. unix:uid:1001"
    args+=(-selector "$s")
  done
  if [ -n "${SPIRE_X509_SVID_TTL:-}" ]; then
    args+=(-x509SVIDTTL "$SPIRE_X509_SVID_TTL")
  fi
  local out
  if out=$("$server" "${args[@]}" 2>&1); then
    echo "registered $id ($*)"
  elif [[ "$out" == *AlreadyExists* ]]; then
    echo "exists $id ($*)"
  else
    printf '%s\n' "$out" >&2
    die "entry create $id failed"
  fi
}

[ $# -ge 1 ] || usage
cmd="$1"
shift
case "$cmd" in
token)
  [ $# -eq 1 ] || usage
  token "$1"
  ;;
state-node | focal-point | analyst)
  [ $# -ge 2 ] || usage
  check_state "$1"
  check_name "$2"
  seg="$cmd"
  [ "$cmd" = state-node ] && seg=node
  id="spiffe://$td/state/$1/$seg/$2"
  shift 2
  entry "$id" "$@"
  ;;
secretariat-node | auditor)
  [ $# -ge 1 ] || usage
  check_name "$1"
  seg="$cmd"
  [ "$cmd" = secretariat-node ] && seg=node
  id="spiffe://$td/secretariat/$seg/$1"
  shift
  entry "$id" "$@"
  ;;
*)
  usage
  ;;
esac
