#!/usr/bin/env bash
# Runtime benchmarks (issue 4): start 100 services to ready, beside PM2 starting the same 100
# commands; supervisor memory with 100 running; sampler CPU over ~200 processes at 1 Hz; log
# throughput of one noisy service. Usage: bash scripts/bench-runtime.sh
# Needs the release build (built if absent) and npm (PM2 is installed into .tools/pm2).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/optimus"
[ -x "$BIN" ] || bash scripts/build.sh
if [ ! -x "$ROOT/.tools/pm2/node_modules/.bin/pm2" ]; then
  mkdir -p "$ROOT/.tools/pm2"
  (cd "$ROOT/.tools/pm2" && npm install --no-audit --no-fund --loglevel=error pm2@5 >/dev/null)
fi
exec python3 "$ROOT/scripts/bench_runtime.py" "$BIN" "$ROOT/.tools/pm2/node_modules/.bin/pm2"
