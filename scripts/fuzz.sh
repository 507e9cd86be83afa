#!/usr/bin/env bash
# Fuzzes the API: starts the release server on a scratch data dir (the embedded default), signs
# in as the owner, and lets schemathesis (from PyPI, in a cached virtualenv) send at least
# FUZZ_MIN_REQUESTS generated requests across every operation of /api/v1/openapi.json. Fails on
# any 5xx, a request left unanswered, a check in end2end/fuzz/ failing, or a broken document.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
log() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }

SCHEMATHESIS_VERSION="4.32.5"
VENV="${FUZZ_VENV:-$HOME/.cache/optimus/schemathesis-$SCHEMATHESIS_VERSION}"
MIN_REQUESTS="${FUZZ_MIN_REQUESTS:-10000}"
BIN="${OPTIMUS_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/release/optimus}"

[ -x "$BIN" ] || { echo "fuzz: no server binary at $BIN (run scripts/build.sh)" >&2; exit 1; }
if [ ! -x "$VENV/bin/st" ]; then
  log "installing schemathesis $SCHEMATHESIS_VERSION into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

DATA="$(mktemp -d)"
WORK="$(mktemp -d)"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
ARTIFACTS="$ROOT/end2end/artifacts"
mkdir -p "$ARTIFACTS"
log "starting the release server on 127.0.0.1:$PORT for the fuzzer"
# The request budget is raised: the fuzzer sends far more than a person would in a minute.
OPTIMUS_DATA_DIR="$DATA" OPTIMUS_BIND="127.0.0.1:$PORT" OPTIMUS_API_RATE_PER_MINUTE=1000000 \
  "$BIN" serve >"$ARTIFACTS/fuzz-server.log" 2>&1 &
SERVER=$!
cleanup() {
  kill -TERM "$SERVER" 2>/dev/null || true
  wait "$SERVER" 2>/dev/null || true
  rm -rf "$DATA" "$WORK"
}
trap cleanup EXIT
for _ in $(seq 1 300); do
  curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null || {
  echo "fuzz: the server did not start; its log:" >&2; tail -20 "$ARTIFACTS/fuzz-server.log" >&2; exit 1; }
API="http://127.0.0.1:$PORT/api/v1"
post() { curl -fsS -H 'content-type: application/json' ${2:+-H "authorization: Bearer $2"} -d "$3" "$API/$1"; }
field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
SESSION="$(post auth/setup "" '{"username":"owner","password":"correct horse battery staple"}' | field '["token"]')"
# An API token with every scope (a session would end at the fuzzer's first auth/logout). Decoy
# tokens first, so the fuzzer's small ids revoke those rather than its own.
for i in $(seq 1 60); do
  post tokens/create "$SESSION" "{\"name\":\"decoy$i\",\"scopes\":[\"read\"],\"expires_in_days\":1}" >/dev/null
done
API_TOKEN="$(post tokens/create "$SESSION" \
  '{"name":"fuzz","scopes":["read","read:secrets","write","deploy","admin"],"expires_in_days":1}' | field '["token"]')"
export API_TOKEN
cp end2end/fuzz/schemathesis.toml "$WORK/"
log "schemathesis: at least $MIN_REQUESTS requests"
status=0
(cd "$WORK" && SCHEMATHESIS_HOOKS=hooks PYTHONPATH="$ROOT/end2end/fuzz" \
  "$VENV/bin/st" run "$API/openapi.json" --no-color ${FUZZ_ARGS:-} >"$ARTIFACTS/fuzz.txt" 2>&1) || status=$?
tail -n 60 "$ARTIFACTS/fuzz.txt"
cp "$WORK/report/run.ndjson" "$ARTIFACTS/fuzz.ndjson" 2>/dev/null || true
python3 end2end/fuzz/summary.py "$WORK/report/run.ndjson" "$MIN_REQUESTS" || status=1
if [ "$status" -ne 0 ]; then
  log "fuzzing failed: the whole output is in end2end/artifacts/fuzz.txt"
  exit 1
fi
