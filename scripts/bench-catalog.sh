#!/usr/bin/env bash
# Catalog benchmark: generates 1,000 projects (mixed stacks, 200 of them git repositories), then
# times the first scan and a no-change rescan through the API of a release server.
# Usage: bash scripts/bench-catalog.sh [projects, default 1000]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
N="${1:-1000}"
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/optimus"
[ -x "$BIN" ] || bash scripts/build.sh
WORK="$(mktemp -d)"
DATA="$WORK/data"
TREE="$WORK/code"
python3 - "$TREE" "$N" <<'PY'
import os, subprocess, sys
root, n = sys.argv[1], int(sys.argv[2])
kinds = {
    "rust": {"Cargo.toml": '[package]\nname = "{name}"\nversion = "0.1.0"\n', "src/main.rs": "fn main() {}\n"},
    "node": {"package.json": '{"name":"{name}","scripts":{"dev":"vite","build":"vite build","test":"vitest"},"devDependencies":{"vite":"^5"}}'},
    "python": {"pyproject.toml": '[project]\nname = "{name}"\ndependencies = ["fastapi"]\n'},
    "go": {"go.mod": "module example.com/{name}\n\ngo 1.22\n", "main.go": "package main\n"},
    "java": {"pom.xml": "<project><artifactId>{name}</artifactId></project>\n"},
    "ruby": {"Gemfile": "gem 'rails'\n"},
    "php": {"composer.json": '{"name":"acme/{name}"}', "artisan": ""},
    "elixir": {"mix.exs": "app: :{name},\n"},
    "static": {"index.html": "<h1>{name}</h1>\n"},
    "docker": {"Dockerfile": "FROM scratch\n", "Makefile": "build:\n\ttrue\n"},
}
names = list(kinds)
env = dict(os.environ, GIT_AUTHOR_NAME="b", GIT_AUTHOR_EMAIL="b@b", GIT_COMMITTER_NAME="b", GIT_COMMITTER_EMAIL="b@b")
for i in range(n):
    kind = names[i % len(names)]
    name = f"{kind}-{i:04d}"
    d = os.path.join(root, f"group-{i // 100:02d}", name)
    for rel, body in kinds[kind].items():
        p = os.path.join(d, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(body.replace("{name}", name))
    os.makedirs(os.path.join(d, "docs"), exist_ok=True)
    with open(os.path.join(d, "docs", "README.md"), "w") as f:
        f.write("docs\n")
    if i % 5 == 0:
        subprocess.run(["git", "-c", "init.defaultBranch=main", "init", "-q"], cwd=d, check=True)
        subprocess.run(["git", "add", "."], cwd=d, check=True, env=env)
        subprocess.run(["git", "commit", "-qm", "init"], cwd=d, check=True, env=env)
PY
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
OPTIMUS_DATA_DIR="$DATA" OPTIMUS_BIND="127.0.0.1:$PORT" OPTIMUS_SITE_ROOT="$ROOT/target/site" OPTIMUS_LOG=warn "$BIN" serve >/dev/null 2>&1 &
PID=$!
trap 'kill -TERM $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$WORK"' EXIT
for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
B="http://127.0.0.1:$PORT/api/v1"
curl -fsS -X POST "$B/auth/setup" -d '{"username":"bench","password":"benchmark passphrase"}' >/dev/null
TOKEN="$(curl -fsS -X POST "$B/auth/login" -d '{"username":"bench","password":"benchmark passphrase"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')"
api() { curl -fsS -X POST "$B/$1" -H "Authorization: Bearer $TOKEN" -d "$2"; }
wait_done() {
  while :; do
    state="$(api workspaces/get "{\"id\":$1}" | python3 -c 'import json,sys; w=json.load(sys.stdin); print(w["scan_state"], w["projects_found"], w["last_scan_ms"])')"
    case "$state" in running*) sleep 0.2 ;; *) echo "$state"; return ;; esac
  done
}
ID="$(api workspaces/add "{\"path\":\"$TREE\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')"
read -r S1 P1 MS1 <<<"$(wait_done "$ID")"
echo "first scan: $S1, $P1 projects, ${MS1} ms"
api workspaces/scan "{\"id\":$ID}" >/dev/null
read -r S2 P2 MS2 <<<"$(wait_done "$ID")"
echo "no-change rescan: $S2, $P2 projects, ${MS2} ms"
python3 -c "print(f'rescan speed-up: {$MS1 / max($MS2, 1):.1f}x')"
