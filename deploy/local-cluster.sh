#!/usr/bin/env bash
# Runs a whole IANT network on loopback as separate processes, the way a
# deployment runs it: three iant-backbone servers forming one JetStream
# cluster (R3 streams), the secretariat's iantd and one iantd per state,
# each with its own SVID from a development PKI. The fault tests in
# tests/faults drive this script, so it cannot rot.
#
#   deploy/local-cluster.sh up     [--dir DIR] [--states MX,US,CA|all] [--base-port 14000] [--backbone-only]
#   deploy/local-cluster.sh start  NAME [--dir DIR]   # start one process again
#   deploy/local-cluster.sh stop   NAME [--dir DIR]   # SIGTERM, wait for exit
#   deploy/local-cluster.sh kill   NAME [--dir DIR]   # SIGKILL (a crash)
#   deploy/local-cluster.sh status [--dir DIR]
#   deploy/local-cluster.sh down   [--dir DIR]        # stop everything, keep the data
#
# NAME is hub-1, hub-2, hub-3, secretariat or a state code in lower case
# (mx). DIR (default ./iant-cluster) holds the PKI, one config per process
# (DIR/etc), their data (DIR/var), logs (DIR/log/NAME.log), pid files
# (DIR/run) and a client context per person (DIR/contexts/*.yaml, for
# `iant --context FILE ...`). Ports from --base-port B: backbone clients
# B..B+2, routes B+10..B+12, leaf nodes B+20..B+22, the secretariat node
# B+30 and the state nodes B+31 onwards.
#
# --backbone-only starts just the three backbone servers, with users for
# the nodes of --states: for `iant bench --nats ... --pki DIR/pki`, which
# runs the nodes itself.
#
# Binaries come from $IANT_BIN (a directory holding iant, iantd and
# iant-backbone) or are built into DIR/bin with `go build`.
set -euo pipefail

cmd=${1:-}
[ -n "$cmd" ] || { sed -n '2,25p' "$0"; exit 2; }
shift
name=""
case $cmd in start|stop|kill) name=${1:?"$cmd needs a NAME (hub-1, secretariat, mx, ...)"}; shift ;; esac

dir=./iant-cluster
states=MX,US,CA
base=14000
backbone_only=false
while [ $# -gt 0 ]; do
  case $1 in
    --dir) dir=$2; shift 2 ;;
    --states) states=$2; shift 2 ;;
    --base-port) base=$2; shift 2 ;;
    --backbone-only) backbone_only=true; shift ;;
    *) echo "local-cluster: unknown argument $1" >&2; exit 2 ;;
  esac
done
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
repo=$(cd "$(dirname "$0")/.." && pwd)
td=iant.test

die() { echo "local-cluster: $*" >&2; exit 1; }

bin() {
  if [ -n "${IANT_BIN:-}" ]; then echo "$IANT_BIN/$1"; else echo "$dir/bin/$1"; fi
}

build() {
  [ -n "${IANT_BIN:-}" ] && return
  mkdir -p "$dir/bin"
  (cd "$repo" && go build -o "$dir/bin/" ./cmd/iant ./cmd/iantd ./cmd/iant-backbone)
}

# --- configuration -------------------------------------------------------

write_configs() {
  local pki=$dir/pki
  if [ ! -f "$pki/pki.json" ]; then
    "$(bin iant)" certs init --dir "$pki" --trust-domain $td --states "$states" --hubs 3 >/dev/null
  fi
  # The secretariat's membership key, made before anything starts: the
  # backbone servers and the state nodes are configured with its verifier
  # key (the secretariat's node finds the key in its data_dir).
  "$(bin iant)" admin keygen --dir "$dir/var/secretariat" --trust-domain $td >/dev/null
  # The PKI's states are the network's ("all" becomes the 35 codes).
  states=$(sed -n '/"states": \[/,/\]/p' "$pki/pki.json" | grep -o '"[A-Z][A-Z]"' | tr -d '"' | paste -sd, -)
  mkdir -p "$dir/etc" "$dir/var" "$dir/log" "$dir/run" "$dir/contexts"
  local ccs nodes="spiffe://$td/secretariat/node/node"
  IFS=, read -ra ccs <<<"$states"
  for cc in "${ccs[@]}"; do nodes="$nodes, spiffe://$td/state/$cc/node/node"; done
  local routes="nats-route://127.0.0.1:$((base+10)), nats-route://127.0.0.1:$((base+11)), nats-route://127.0.0.1:$((base+12))"
  local urls="tls://127.0.0.1:$base, tls://127.0.0.1:$((base+1)), tls://127.0.0.1:$((base+2))"
  for i in 1 2 3; do
    cat >"$dir/etc/hub-$i.yaml" <<EOF
# Written by deploy/local-cluster.sh; see deploy/nats/hub-1.yaml for the commented original.
trust_domain: $td
name: hub-$i
svid: {cert: $pki/svid/secretariat-node-hub-$i.pem, key: $pki/svid/secretariat-node-hub-$i.key, bundle: $pki/bundle.pem}
listen: 127.0.0.1:$((base+i-1))
store_dir: $dir/var/hub-$i
cluster:
  name: iant
  listen: 127.0.0.1:$((base+10+i-1))
  routes: [$routes]
  peers: [spiffe://$td/secretariat/node/hub-1, spiffe://$td/secretariat/node/hub-2, spiffe://$td/secretariat/node/hub-3]
leafnodes: {listen: 127.0.0.1:$((base+20+i-1))}
nodes: [$nodes]
membership: {verifier_key_file: $dir/var/secretariat/membership.vkey}
log: {level: info}
EOF
  done
  local directory="  - {id: spiffe://$td/secretariat/node/node, address: 127.0.0.1:$((base+30))}"
  local j=1
  for cc in "${ccs[@]}"; do
    directory="$directory
  - {id: spiffe://$td/state/$cc/node/node, address: 127.0.0.1:$((base+30+j))}"
    j=$((j+1))
  done
  node_config secretariat secretariat-node-node $((base+30)) "  replicas: 3
provision_states: [$states]" "$urls" "$directory"
  j=1
  for cc in "${ccs[@]}"; do
    local lc=${cc,,}
    # The secretariat writes its audit log's verifier key on first start,
    # before any state node starts (see "up"). The node's keys live
    # outside its data_dir: a lost data_dir is rebuilt from the backbone.
    node_config "$lc" "$lc-node-node" $((base+30+j)) "" "$urls" "$directory" \
      "audit: {verifier_key_file: $dir/var/secretariat/audit.vkey}
keys_file: $dir/keys/$lc/node.keys
membership: {verifier_key_file: $dir/var/secretariat/membership.vkey}"
    for who in focal-point-focal analyst-analyst; do
      cat >"$dir/contexts/$lc-$who.yaml" <<EOF
node: 127.0.0.1:$((base+30+j))
node_id: spiffe://$td/state/$cc/node/node
trust_domain: $td
cert: $pki/svid/$lc-$who.pem
key: $pki/svid/$lc-$who.key
bundle: $pki/bundle.pem
EOF
    done
    j=$((j+1))
  done
  cat >"$dir/contexts/secretariat-auditor-auditor.yaml" <<EOF
node: 127.0.0.1:$((base+30))
node_id: spiffe://$td/secretariat/node/node
trust_domain: $td
cert: $pki/svid/secretariat-auditor-auditor.pem
key: $pki/svid/secretariat-auditor-auditor.key
bundle: $pki/bundle.pem
EOF
}

# node_config NAME STEM PORT EXTRA_BACKBONE URLS DIRECTORY [EXTRA]
node_config() {
  cat >"$dir/etc/$1.yaml" <<EOF
# Written by deploy/local-cluster.sh; see deploy/nats/nodes/ for the commented originals.
trust_domain: $td
listen: 127.0.0.1:$3
data_dir: $dir/var/$1
svid: {cert: $dir/pki/svid/$2.pem, key: $dir/pki/svid/$2.key, bundle: $dir/pki/bundle.pem}
backbone:
  urls: [$5]
$4
directory:
$6
log: {level: info}
${7:-}
EOF
}

# --- processes -----------------------------------------------------------

pidfile() { echo "$dir/run/$1.pid"; }

running() {
  local f; f=$(pidfile "$1")
  [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null
}

# port_of NAME: the port that says NAME is up.
port_of() {
  case $1 in
    hub-[123]) echo $((base + ${1#hub-} - 1)) ;;
    secretariat) echo $((base+30)) ;;
    *) grep -m1 '^listen:' "$dir/etc/$1.yaml" | sed 's/.*://' ;;
  esac
}

wait_port() {
  local port=$1 what=$2 i
  for i in $(seq 1 600); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    running "$what" || die "$what exited; see $dir/log/$what.log: $(tail -n 3 "$dir/log/$what.log")"
    sleep 0.1
  done
  die "$what not listening on $port after 60 s; see $dir/log/$what.log"
}

start_one() {
  local n=$1
  [ -f "$dir/etc/$n.yaml" ] || die "no process named $n (see $dir/etc)"
  if running "$n"; then echo "$n already running"; return; fi
  local prog=iantd
  case $n in hub-*) prog=iant-backbone ;; esac
  nohup "$(bin $prog)" -config "$dir/etc/$n.yaml" >>"$dir/log/$n.log" 2>&1 &
  echo $! >"$(pidfile "$n")"
}

stop_one() {
  local n=$1 sig=$2 pid i
  running "$n" || { rm -f "$(pidfile "$n")"; return 0; }
  pid=$(cat "$(pidfile "$n")")
  kill "-$sig" "$pid"
  for i in $(seq 1 300); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$(pidfile "$n")"; return 0; }
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$(pidfile "$n")"
}

all_names() {
  local ccs
  IFS=, read -ra ccs <<<"$states"
  printf "%s\n" hub-1 hub-2 hub-3 secretariat
  for cc in "${ccs[@]}"; do echo "${cc,,}"; done
}

# states and base port recorded at "up", so later commands need neither.
load_states() {
  if [ -f "$dir/states" ]; then read -r states base <"$dir/states"; fi
}

case $cmd in
  up)
    build
    write_configs
    echo "$states $base" >"$dir/states"
    for i in 1 2 3; do start_one "hub-$i"; done
    for i in 1 2 3; do wait_port $((base+i-1)) "hub-$i"; done
    if $backbone_only; then
      echo "IANT backbone up in $dir: tls://127.0.0.1:$base,tls://127.0.0.1:$((base+1)),tls://127.0.0.1:$((base+2)) (PKI $dir/pki)"
      exit 0
    fi
    # The secretariat provisions the R3 streams and consumers (waiting for
    # the cluster's meta leader); state nodes start once it listens.
    start_one secretariat
    wait_port $((base+30)) secretariat
    for n in $(all_names | tail -n +5); do start_one "$n"; done
    for n in $(all_names | tail -n +5); do wait_port "$(port_of "$n")" "$n"; done
    echo "IANT local cluster up in $dir: $(all_names | tr '\n' ' ')"
    echo "  try: $(bin iant) --context $dir/contexts/mx-focal-point-focal.yaml states"
    ;;
  start)
    load_states
    start_one "$name"
    wait_port "$(port_of "$name")" "$name"
    ;;
  stop) load_states; stop_one "$name" TERM ;;
  kill) load_states; stop_one "$name" KILL ;;
  status)
    load_states
    for n in $(all_names); do
      if running "$n"; then echo "$n running (pid $(cat "$(pidfile "$n")"))"; else echo "$n stopped"; fi
    done
    ;;
  down)
    load_states
    for n in $(all_names | tac); do stop_one "$n" TERM; done
    echo "IANT local cluster down; data kept in $dir/var"
    ;;
  *) die "unknown command $cmd (up, start, stop, kill, status, down)" ;;
esac
