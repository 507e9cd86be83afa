#!/usr/bin/env bash
# WebSocket fan-out: 1,000 event streams, 5,000 events a second published over Redis as another
# instance would; p50/p99 delivery from publish to client. Usage:
#   bash scripts/bench-events.sh [clients, default 1000] [events/s, default 5000] [seconds, default 10] [topics, default 100]
# Needs Redis on 127.0.0.1:6379 (scripts/services.sh starts it).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
CLIENTS="${1:-1000}" RATE="${2:-5000}" SECONDS_="${3:-10}" TOPICS="${4:-100}"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
BIN="${OPTIMUS_BENCH_BIN:-$TARGET/release/optimus}"
[ -x "$BIN" ] || bash scripts/build.sh
cargo build --quiet --release -p server --example bench_events
REDIS="${OPTIMUS_BENCH_REDIS_URL:-redis://127.0.0.1:6379}"
PREFIX="optimus-bench-events-$$"
# Each stream is a socket on both ends.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
[ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -ge $((CLIENTS + 256)) ] || { echo "open-file limit $(ulimit -n) is too low for $CLIENTS streams" >&2; exit 1; }
DATA="$(mktemp -d)"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
env -u OPTIMUS_DATABASE_URL OPTIMUS_DATA_DIR="$DATA" OPTIMUS_BIND="127.0.0.1:$PORT" OPTIMUS_REDIS_URL="$REDIS" \
  OPTIMUS_REDIS_PREFIX="$PREFIX" OPTIMUS_API_RATE_PER_MINUTE=100000000 OPTIMUS_LOG=warn "$BIN" serve >/dev/null 2>&1 &
PID=$!
trap 'kill -TERM $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$DATA"' EXIT
for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
B="http://127.0.0.1:$PORT/api/v1"
curl -fsS -H 'content-type: application/json' -d '{"username":"bench","password":"benchmark passphrase"}' "$B/auth/setup" >/dev/null
TOKEN="$(curl -fsS -H 'content-type: application/json' -d '{"username":"bench","password":"benchmark passphrase"}' "$B/auth/login" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')"
START_CPU="$(awk '{print $14+$15}' "/proc/$PID/stat")"
"$TARGET/release/examples/bench_events" "http://127.0.0.1:$PORT" "$TOKEN" "$REDIS" "$PREFIX" "$CLIENTS" "$RATE" "$SECONDS_" "$TOPICS"
END_CPU="$(awk '{print $14+$15}' "/proc/$PID/stat")"
python3 -c "print(f'server CPU during the run: {($END_CPU - $START_CPU) / $(getconf CLK_TCK):.1f} s')"
