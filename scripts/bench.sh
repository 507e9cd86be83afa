#!/usr/bin/env bash
# Measures the foundation's budgets on this machine: release wasm size (raw, gzip), the server's
# idle memory, and p50/p99 latency of POST /api/v1/auth/me under wrk for 30 s.
# Usage: bash scripts/bench.sh [duration, default 30s]   (needs: a release build, Debian's wrk)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
DURATION="${1:-30s}"
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/optimus"
[ -x "$BIN" ] || bash scripts/build.sh
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }

WASM="$ROOT/target/site/pkg/optimus.wasm"
echo "wasm: $(stat -c %s "$WASM") bytes raw, $(gzip -9 -c "$WASM" | wc -c) bytes gzip"

DATA="$(mktemp -d)"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
# The per-caller API budget is lifted so the load tool measures latency, not the limiter.
OPTIMUS_DATA_DIR="$DATA" OPTIMUS_BIND="127.0.0.1:$PORT" OPTIMUS_SITE_ROOT="$ROOT/target/site" \
  OPTIMUS_API_RATE_PER_MINUTE=100000000 OPTIMUS_LOG=warn "$BIN" serve >/dev/null 2>&1 &
PID=$!
trap 'kill -TERM $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$DATA"' EXIT
for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
sleep 3
echo "idle RSS: $(awk '/VmRSS/{print $2, $3}' /proc/$PID/status)"

B="http://127.0.0.1:$PORT/api/v1"
curl -fsS -X POST "$B/auth/setup" -d '{"username":"bench","password":"benchmark passphrase"}' >/dev/null
TOKEN="$(curl -fsS -X POST "$B/auth/login" -d '{"username":"bench","password":"benchmark passphrase"}' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')"
SCRIPT="$(mktemp --suffix=.lua)"
cat >"$SCRIPT" <<'LUA'
wrk.method = "POST"
wrk.body = "{}"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
LUA
echo "POST /api/v1/auth/me, wrk -t2 -c16 -d$DURATION (SQLite, in-process limiter):"
TOKEN="$TOKEN" wrk -t2 -c16 -d"$DURATION" --latency -s "$SCRIPT" "$B/auth/me" | sed -n '1,20p'
echo "RSS after load: $(awk '/VmRSS/{print $2, $3}' /proc/$PID/status)"
rm -f "$SCRIPT"
