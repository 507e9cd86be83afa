#!/usr/bin/env bash
# Installs what building Optimus needs when it is missing, from the package registries only:
# the wasm32 target, a pinned cargo-leptos, cargo-llvm-cov with rustc's LLVM tools, the
# wasm-bindgen CLI matching Cargo.lock, and the npm tools (wasm-opt from binaryen,
# playwright-core). Source it: it also sets PATH.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CARGO_LEPTOS_VERSION="0.3.10"   # 0.3.11 needs rustc 1.96
export PATH="$HOME/.cargo/bin:$PATH"

log() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  log "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if ! cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
  log "installing cargo-leptos $CARGO_LEPTOS_VERSION (takes ~10 minutes once)"
  cargo install --locked "cargo-leptos@$CARGO_LEPTOS_VERSION"
fi

CARGO_LLVM_COV_VERSION="0.9.1"
# Coverage: rustc's own LLVM tools (profiles must be read by the LLVM that wrote them).
if ! rustup component list --installed 2>/dev/null | grep -q '^llvm-tools'; then
  log "adding the llvm-tools component (coverage)"
  rustup component add llvm-tools-preview
fi
if ! cargo llvm-cov --version 2>/dev/null | grep -q "$CARGO_LLVM_COV_VERSION"; then
  log "installing cargo-llvm-cov $CARGO_LLVM_COV_VERSION"
  cargo install --locked "cargo-llvm-cov@$CARGO_LLVM_COV_VERSION"
fi

WASM_BINDGEN_VERSION="$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/version = |"/,""); print; exit}' "$ROOT/Cargo.lock")"
if ! wasm-bindgen --version 2>/dev/null | grep -q "$WASM_BINDGEN_VERSION"; then
  log "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (matches Cargo.lock)"
  # Not --locked: its own lock file pins a crate version the registry no longer serves.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi

if [ ! -x "$ROOT/end2end/node_modules/.bin/wasm-opt" ] || [ "$ROOT/end2end/package-lock.json" -nt "$ROOT/end2end/node_modules/.package-lock.json" ]; then
  log "installing npm tools (binaryen's wasm-opt, playwright-core)"
  (cd "$ROOT/end2end" && npm ci --no-audit --no-fund --loglevel=error)
fi
# Browser libraries served from Optimus's own origin (charts): installed from npm, copied into
# the site's assets at build time.
if [ ! -f "$ROOT/frontend/vendor/node_modules/echarts/dist/echarts.min.js" ] || [ "$ROOT/frontend/vendor/package-lock.json" -nt "$ROOT/frontend/vendor/node_modules/.package-lock.json" ]; then
  log "installing browser libraries (echarts)"
  (cd "$ROOT/frontend/vendor" && npm ci --no-audit --no-fund --loglevel=error)
fi
mkdir -p "$ROOT/frontend/assets/vendor"
# Copied only when it differs: its time is one of the build's inputs (scripts/build.sh).
cmp -s "$ROOT/frontend/vendor/node_modules/echarts/dist/echarts.min.js" "$ROOT/frontend/assets/vendor/echarts.min.js" ||
  cp "$ROOT/frontend/vendor/node_modules/echarts/dist/echarts.min.js" "$ROOT/frontend/assets/vendor/echarts.min.js"
# binaryen from npm first: Debian's wasm-opt (v108) produces wasm that fails to hydrate.
export PATH="$ROOT/end2end/node_modules/.bin:$PATH"
