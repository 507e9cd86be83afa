#!/usr/bin/env bash
# Builds Optimus in release mode: the server binary and the site (wasm, js, css) in target/site.
# When nothing that goes into the build changed since the last successful one (the same files
# with the same sizes and times, the same Rust), it returns at once: `cargo leptos build` would
# otherwise run wasm-bindgen and wasm-opt again (about a minute) for the same result.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$HOME/.cargo/bin:$PATH"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
STAMP="$TARGET/release/.optimus-build-inputs"

# What the build reads: the workspace's sources, manifests, styles and assets, this script, and
# the compiler's version. Paths, sizes and modification times are enough to notice an edit. The
# checkout's own path too: checkouts sharing a target folder share its binaries (and this stamp).
inputs() {
  {
    find Cargo.toml Cargo.lock app server frontend migration style scripts/build.sh \
      -path frontend/vendor/node_modules -prune -o -type f -printf '%p %s %T@\n' | sort
    rustc -V 2>/dev/null || true
    printf 'root=%s target=%s\n' "$ROOT" "$TARGET"
  } | sha256sum | cut -d' ' -f1
}
built() {
  [ -x "$TARGET/release/optimus" ] && [ -x "$TARGET/release/optimus-shim" ] &&
    [ -x "$TARGET/release/optimus-proxy" ] && [ -d "$ROOT/target/site/pkg" ]
}
if built && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$(inputs)" ]; then
  printf '\033[1;34m==>\033[0m %s\n' "the release build is up to date" >&2
  exit 0
fi

# shellcheck source=toolchain.sh
source "$ROOT/scripts/toolchain.sh"
log "building Optimus (release)"
rm -f "$STAMP"
# Read before building: an edit made while it builds makes the next run build again.
fingerprint="$(inputs)"
# --split: each page is its own wasm chunk (see `lazy_page!` in app/src/app.rs).
cargo leptos build --release --split
built && printf '%s\n' "$fingerprint" >"$STAMP"
