#!/usr/bin/env bash
# Council benchmarks (issue 5), on the embedded SQLite default: an offline deliberation with the
# five technical personas on a project with 10,000 timeline/audit entries and 5,000 memories;
# memory recall over 100,000 memories; a depth-2 graph neighbourhood on a 100,000-edge graph.
# p50/p99 through the API of the release server. Usage: bash scripts/bench-council.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/optimus"
[ -x "$BIN" ] || bash scripts/build.sh
exec python3 "$ROOT/scripts/bench_council.py" "$BIN"
