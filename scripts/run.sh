#!/usr/bin/env bash
# The one command to run Optimus: builds what is missing, then serves on http://127.0.0.1:8005
# with the embedded defaults (SQLite in ./data, no Redis, generated secrets).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/build.sh"
cd "$ROOT"
export OPTIMUS_SITE_ROOT="${OPTIMUS_SITE_ROOT:-$ROOT/target/site}"
exec "${CARGO_TARGET_DIR:-$ROOT/target}/release/optimus" serve "$@"
