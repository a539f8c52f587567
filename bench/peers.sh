#!/usr/bin/env bash
# Frontdesk against its peers, one after another on this machine, same rooms, rate and duration:
#   ours-sqlite  frontdesk demo on SQLite,      loadgen chat (open loop, persisted + delivered)
#   ours-pg      frontdesk demo on PostgreSQL,  loadgen chat
#   ours-relay   frontdesk with bench_relay=1,  loadgen relay (bus + hub, nothing stored)
#   relay-rs     bench/relay-rs (bare tokio-tungstenite),  loadgen relay
#   relay-node   bench/relay-node (Node + ws),             loadgen relay
# then the relays again at MAX_RATE (their ceiling), then idle sockets on each: KB of server RSS
# per open socket. Results: one JSON file per run in $OUT (the loadgen's JSON), and a table.
#
#   bench/peers.sh                      # defaults below; override with the environment:
#   ROOMS=100 RATE=2000 DURATION=10 MAX_RATE=30000 IDLE_N=10000 IDLE_HOLD=5 OUT=/tmp/peers bench/peers.sh
#   SKIP=ours-pg,idle bench/peers.sh         # leave steps out (names above, max, idle)
#
# Every server and client runs under `timeout`; servers listen on loopback and are stopped by
# their pid after their step. PostgreSQL: $PG_URL (a database `frontdesk_peers` is dropped and
# created on it). Everything is bounded: no step runs longer than its timeout.
set -euo pipefail
cd "$(dirname "$0")/.."

ROOMS=${ROOMS:-100}
RATE=${RATE:-2000}
DURATION=${DURATION:-10}
MAX_RATE=${MAX_RATE:-30000}
IDLE_N=${IDLE_N:-10000}
IDLE_HOLD=${IDLE_HOLD:-5}
OUT=${OUT:-/tmp/frontdesk-peers}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
SKIP=${SKIP:-}
PORT=${PORT:-9100}
# A step's whole budget: set-up, the run, the drain, and slack.
STEP_TIMEOUT=$((DURATION + IDLE_HOLD + 120))

BIN=target/release
LOADGEN=$BIN/loadgen

log() { printf '\n== %s\n' "$*" >&2; }
skipped() { [[ ",$SKIP," == *",$1,"* ]]; }

command -v jq >/dev/null || { echo "peers.sh needs jq (apt-get install jq)" >&2; exit 1; }

log "building release binaries"
cargo build --release -p frontdesk-server -p frontdesk-loadgen -p relay-rs --bins >&2
(cd bench/relay-node && { [ -d node_modules/ws ] || npm ci --no-audit --no-fund >&2; })

if curl -s -o /dev/null "http://127.0.0.1:$PORT/"; then
  echo "something already listens on 127.0.0.1:$PORT; set PORT" >&2
  exit 1
fi
mkdir -p "$OUT"
rm -f "$OUT"/*.json
SERVER_PID=
SERVER_PID_MEASURED=
DATA_DIR=
stop_server() {
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
  fi
  if [ -n "$DATA_DIR" ]; then
    rm -rf "$DATA_DIR"
    DATA_DIR=
  fi
}
trap stop_server EXIT

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

# wait_up URL: polls until it answers 200, at most 20 s.
wait_up() {
  for _ in $(seq 200); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || { echo "the server exited" >&2; return 1; }
    sleep 0.1
  done
  echo "$1 did not answer" >&2
  return 1
}

# start NAME: starts the server of that name on $PORT, sets SERVER_PID, waits until it is up.
start() {
  local name=$1 data
  data=$(mktemp -d /tmp/peers-data.XXXXXX)
  DATA_DIR=$data
  SERVER_PID_MEASURED=
  local ours=(env FRONTDESK_CONNECTIONS_PER_MINUTE_PER_IP=0 FRONTDESK_VISITOR_SENDS_PER_SECOND=0
    FRONTDESK_LOG_LEVEL=warn timeout "$STEP_TIMEOUT" "$BIN/frontdesk")
  case $name in
    ours-sqlite) "${ours[@]}" demo --data-dir "$data" --listen "127.0.0.1:$PORT" >/dev/null & ;;
    ours-pg)
      psql -q "$PG_URL" -c 'DROP DATABASE IF EXISTS frontdesk_peers' -c 'CREATE DATABASE frontdesk_peers' >&2
      FRONTDESK_DATABASE_URL="${PG_URL%/*}/frontdesk_peers" \
        "${ours[@]}" demo --data-dir "$data" --listen "127.0.0.1:$PORT" >/dev/null & ;;
    ours-relay) FRONTDESK_BENCH_RELAY=1 "${ours[@]}" serve --data-dir "$data" --listen "127.0.0.1:$PORT" >/dev/null & ;;
    relay-rs) timeout "$STEP_TIMEOUT" "$BIN/relay-rs" --listen "127.0.0.1:$PORT" >/dev/null & ;;
    relay-node) timeout "$STEP_TIMEOUT" node bench/relay-node/relay.mjs --listen "127.0.0.1:$PORT" >/dev/null & ;;
  esac
  SERVER_PID=$!
  # `timeout` runs the server as its child: measure the server, not timeout.
  for _ in $(seq 50); do
    local child
    child=$(pgrep -P "$SERVER_PID" | head -1 || true)
    [ -n "$child" ] && { SERVER_PID_MEASURED=$child; break; }
    sleep 0.05
  done
  [ -n "$SERVER_PID_MEASURED" ] || { echo "$name did not start" >&2; return 1; }
  wait_up "http://127.0.0.1:$PORT/healthz"
  sleep 0.5 # let start-up allocations settle before RSS is read
}

# relay_run NAME FILE RATE: the relay phase against the running server.
relay_run() {
  local url="ws://127.0.0.1:$PORT" pid=$SERVER_PID_MEASURED
  timeout "$STEP_TIMEOUT" "$LOADGEN" --url "$url" --server-pid "$pid" --json "$2" \
    relay --rooms "$ROOMS" --rate "$3" --duration "$DURATION"
}

# measure_hold FILE CMD...: runs CMD (which opens IDLE_N sockets and holds them) while sampling
# the server's RSS; writes FILE with the RSS before, the peak while held, and KB per socket.
measure_hold() {
  local file=$1 pid=$SERVER_PID_MEASURED before peak=0 rc=0
  shift
  before=$(rss_kb "$pid")
  "$@" >/dev/null &
  local cpid=$!
  while kill -0 "$cpid" 2>/dev/null; do
    local r
    r=$(rss_kb "$pid")
    [ "${r:-0}" -gt "$peak" ] && peak=$r
    sleep 0.2
  done
  wait "$cpid" || rc=$?
  [ "$rc" -eq 0 ] || return "$rc"
  jq -n --arg name "$CURRENT" --argjson n "$IDLE_N" --argjson before "$before" --argjson peak "$peak" \
    '{server: $name, sockets: $n, rss_before_kb: $before, rss_peak_kb: $peak,
      kb_per_socket: (($peak - $before) / $n)}' >"$file"
}

# idle_run NAME: IDLE_N idle sockets on the running server -> $OUT/idle-NAME.json.
idle_run() {
  local name=$1 pid=$SERVER_PID_MEASURED file="$OUT/idle-$1.json" lg="$OUT/idle-$1.loadgen.json"
  local rooms=$((IDLE_N / 2)) url="ws://127.0.0.1:$PORT"
  CURRENT=$name
  if [ "$name" = ours-sqlite ]; then
    # Visitor sockets of the real protocol (a widget session each, then hello).
    measure_hold "$file" timeout "$STEP_TIMEOUT" "$LOADGEN" --url "http://127.0.0.1:$PORT" \
      --server-pid "$pid" --json "$lg" idle --n "$IDLE_N" --hold "$IDLE_HOLD"
  else
    # The relay phase at rate 0: 2 sockets a room, opened and held.
    measure_hold "$file" timeout "$STEP_TIMEOUT" "$LOADGEN" --url "$url" --server-pid "$pid" \
      --json "$lg" relay --rooms "$rooms" --rate 0 --duration "$IDLE_HOLD"
  fi
}

for name in ours-sqlite ours-pg ours-relay relay-rs relay-node; do
  skipped "$name" && continue
  log "$name: rooms/visitors $ROOMS, $RATE msg/s, ${DURATION}s"
  start "$name"
  case $name in
    ours-sqlite | ours-pg)
      timeout "$STEP_TIMEOUT" "$LOADGEN" --url "http://127.0.0.1:$PORT" --server-pid "$SERVER_PID_MEASURED" \
        --json "$OUT/$name.json" chat --visitors "$ROOMS" --rate "$RATE" --duration "$DURATION" ;;
    *) relay_run "$name" "$OUT/$name.json" "$RATE" ;;
  esac
  stop_server
done

if ! skipped max; then
  for name in ours-relay relay-rs relay-node; do
    skipped "$name" && continue
    log "$name at its ceiling: $MAX_RATE msg/s offered"
    start "$name"
    relay_run "$name" "$OUT/max-$name.json" "$MAX_RATE"
    stop_server
  done
fi

if ! skipped idle; then
  for name in ours-sqlite ours-relay relay-rs relay-node; do
    skipped "$name" && continue
    log "$name: $IDLE_N idle sockets held ${IDLE_HOLD}s"
    start "$name"
    idle_run "$name"
    stop_server
  done
fi

log "results in $OUT"
python3 - "$OUT" "$RATE" "$MAX_RATE" <<'EOF'
import json, os, sys
out, rate, max_rate = sys.argv[1], sys.argv[2], sys.argv[3]
def load(f):
    p = os.path.join(out, f)
    return json.load(open(p)) if os.path.exists(p) else None
def per_cpu(r):
    cpu = r.get("server_cpu_pct")
    return r["msgs_per_sec"] / (cpu / 100) if cpu else None
def fmt(v, d=1):
    return "-" if v is None else f"{v:,.{d}f}"
print(f"\n| run | offered msg/s | delivered msg/s | p50 ms | p99 ms | p99.9 ms | errors | gaps | server CPU % | msgs per server CPU-s | server RSS MB |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
rows = {}
for prefix, offered in (("", rate), ("max-", max_rate)):
    for name in ("ours-sqlite", "ours-pg", "ours-relay", "relay-rs", "relay-node"):
        r = load(f"{prefix}{name}.json")
        if not r:
            continue
        rows[prefix + name] = r
        rss = r.get("server_rss_kb")
        print(f"| {prefix}{name} | {offered} | {fmt(r['msgs_per_sec'])} | {fmt(r['p50_ms'],2)} | {fmt(r['p99_ms'],2)} | "
              f"{fmt(r['p999_ms'],2)} | {r['errors']} | {r['gaps']} | {fmt(r.get('server_cpu_pct'))} | "
              f"{fmt(per_cpu(r),0)} | {fmt(rss/1024 if rss else None)} |")
def ratio(label, a, b, key, target):
    ra, rb = rows.get(a), rows.get(b)
    if not (ra and rb):
        return
    va, vb = key(ra), key(rb)
    if va and vb:
        q = va / vb
        print(f"{label}: {q:.2f} (target >= {target}) {'ok' if q >= target else 'MISSED'}")
print()
for prefix, what in (("max-", f"delivered msg/s at {max_rate} offered"), ("", f"msgs per server CPU-second at {rate} msg/s")):
    key = (lambda r: r["msgs_per_sec"]) if prefix else per_cpu
    ratio(f"ours-relay / relay-rs, {what}", prefix + "ours-relay", prefix + "relay-rs", key, 0.7)
    ratio(f"ours-relay / relay-node, {what}", prefix + "ours-relay", prefix + "relay-node", key, 1.5)
idle = [load(f"idle-{n}.json") for n in ("ours-sqlite", "ours-relay", "relay-rs", "relay-node")]
idle = [i for i in idle if i]
if idle:
    print("\n| idle sockets | sockets | RSS before MB | RSS held MB | KB per socket |")
    print("|---|---|---|---|---|")
    for i in idle:
        print(f"| {i['server']} | {i['sockets']:,} | {i['rss_before_kb']/1024:.1f} | {i['rss_peak_kb']/1024:.1f} | {i['kb_per_socket']:.1f} |")
EOF
