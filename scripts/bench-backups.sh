#!/usr/bin/env bash
# Backups benchmarks (issue 15): the same ~1 GB mixed tree backed up by Optimus and by Debian's
# plain `restic` in one run, the rebackup of the unchanged tree, and restores of the same
# snapshot. Usage: bash scripts/bench-backups.sh   (BENCH_TREE_MB=1024 by default; BENCH_REMOTE=1
# puts both repositories on an SFTP server on loopback)
# Needs the release build (built if absent) and restic (scripts/services.sh installs it).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/optimus"
[ -x "$BIN" ] || bash scripts/build.sh
command -v restic >/dev/null && command -v rclone >/dev/null || bash scripts/services.sh
exec python3 "$ROOT/scripts/bench_backups.py" "$BIN"
