#!/usr/bin/env bash
# Builds Optimus in release mode: the server binary and the site (wasm, js, css) in target/site.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=toolchain.sh
source "$ROOT/scripts/toolchain.sh"
cd "$ROOT"
log "building Optimus (release)"
cargo leptos build --release
