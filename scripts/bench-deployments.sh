#!/usr/bin/env bash
# Deployments benchmarks (issue 14): optimus-proxy beside nginx in front of the same backend, zero
# failed requests under load through 20 blue-green deployments back to back (with a 2 s endpoint
# under way), automatic and manual rollback times.
# Usage: bash scripts/bench-deployments.sh   (BENCH_SECONDS=60 BENCH_DEPLOYS=20 by default)
# Needs the release build (built if absent); installs Debian's wrk, nginx and curl when missing.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/optimus"
[ -x "$BIN" ] && [ -x "$(dirname "$BIN")/optimus-proxy" ] || bash scripts/build.sh
missing=()
for tool in wrk nginx curl; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if [ "${#missing[@]}" -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
exec python3 "$ROOT/scripts/bench_deployments.py" "$BIN"
