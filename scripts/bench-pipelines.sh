#!/usr/bin/env bash
# Pipelines benchmarks (issue 13): queue-to-start latency of 500 steps queued at once, Optimus's
# overhead per step beside a shell script, a live log line seen on another instance, and a
# 100,000-line step log. Usage: bash scripts/bench-pipelines.sh
# Needs the release build (built if absent); the cross-instance part needs PostgreSQL and Redis
# (BENCH_DATABASE, default postgres://postgres@127.0.0.1:5432; BENCH_REDIS_URL).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/optimus"
[ -x "$BIN" ] || bash scripts/build.sh
exec python3 "$ROOT/scripts/bench_pipelines.py" "$BIN"
