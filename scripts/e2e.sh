#!/usr/bin/env bash
# Runs the end-to-end tests: starts the release server on a free port with a fresh data dir,
# drives it with Playwright in Debian's Chromium, stops it. Screenshots go to end2end/artifacts.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
log() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }

# OPTIMUS_BIN runs another build (a debug one names disposed reactive values in its panics);
# E2E_TESTS picks files (default: all of them, in order).
BIN="${OPTIMUS_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/release/optimus}"
DATA="$(mktemp -d)"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
mkdir -p end2end/artifacts
log "starting the release server on 127.0.0.1:$PORT"
# Every test file signs in from 127.0.0.1 within a minute or two; the login rate limit itself is
# covered by the integration tests, so it is raised here rather than worked around in each file.
OPTIMUS_DATA_DIR="$DATA" OPTIMUS_BIND="127.0.0.1:$PORT" OPTIMUS_SITE_ROOT="$ROOT/target/site" \
  OPTIMUS_AUTH_RATE_PER_MINUTE=200 OPTIMUS_PUBLIC_BIND=127.0.0.1 \
  "$BIN" serve >end2end/artifacts/server.log 2>&1 &
SERVER=$!
# Deployed services and optimus-proxy outlive Optimus on purpose: they are stopped here (the
# services by their working folder, a release under the data dir).
cleanup() {
  kill -TERM "$SERVER" 2>/dev/null || true
  wait "$SERVER" 2>/dev/null || true
  [ -f "$DATA/proxy/proxy.pid" ] && kill -TERM "$(cat "$DATA/proxy/proxy.pid")" 2>/dev/null || true
  for p in /proc/[0-9]*; do
    case "$(readlink "$p/cwd" 2>/dev/null)" in "$DATA"/*) kill -KILL "${p#/proc/}" 2>/dev/null || true ;; esac
  done
  rm -rf "$DATA"
}
trap cleanup EXIT
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
log "end-to-end tests"
# shellcheck disable=SC2086
(cd end2end && BASE_URL="http://127.0.0.1:$PORT" node --test --test-concurrency=1 ${E2E_TESTS:-tests/})
