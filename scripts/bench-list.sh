#!/usr/bin/env bash
# projects/list under load on PostgreSQL with 10,000 catalog entries, and the server-rendered
# projects page. Usage: bash scripts/bench-list.sh [duration, default 30s]
# Needs PostgreSQL on 127.0.0.1:5432 (trust auth, as scripts/services.sh sets up) and Debian's wrk.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
DURATION="${1:-30s}"
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/optimus"
[ -x "$BIN" ] || bash scripts/build.sh
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
ADMIN="${OPTIMUS_BENCH_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
DB="optimus_bench_list"
psql "$ADMIN" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null
psql "$ADMIN" -qc "CREATE DATABASE $DB" >/dev/null
URL="${ADMIN%/*}/$DB"
DATA="$(mktemp -d)"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
OPTIMUS_DATABASE_URL="$URL" OPTIMUS_DATA_DIR="$DATA" OPTIMUS_BIND="127.0.0.1:$PORT" OPTIMUS_SITE_ROOT="$ROOT/target/site" \
  OPTIMUS_API_RATE_PER_MINUTE=100000000 OPTIMUS_LOG=warn "$BIN" serve >/dev/null 2>&1 &
PID=$!
trap 'kill -TERM $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$DATA"; psql "$ADMIN" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true' EXIT
for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
# 10,000 rows straight into the table the scanner fills (migrations have run at start-up).
psql "$URL" -q <<'SQL'
INSERT INTO projects (name, path, description, stacks, frameworks, commands, components, git, status, errors,
                      fingerprint, search_text, scanned_at, created_at, git_dirty, git_ahead, git_behind)
SELECT 'svc-' || lpad(i::text, 5, '0'),
       '/srv/code/group-' || (i / 100) || '/svc-' || i,
       'Service number ' || i,
       CASE i % 4 WHEN 0 THEN ' rust ' WHEN 1 THEN ' node ' WHEN 2 THEN ' python docker ' ELSE ' go ' END,
       '[]', '[{"kind":"run","command":"make run","cwd":".","source":"Makefile target run"}]', '[]',
       CASE WHEN i % 5 = 0 THEN '{"branch":"main","detached":false,"dirty":true,"staged":0,"modified":1,"untracked":0,"ahead":0,"behind":2,"upstream":"origin/main","last_commit":null,"remote_url":null}' END,
       'present', '[]', '', lower('svc-' || i || ' /srv/code/group-' || (i / 100) || '/svc-' || i || ' service number ' || i),
       now(), now(),
       CASE WHEN i % 5 = 0 THEN true END, CASE WHEN i % 5 = 0 THEN 0 END, CASE WHEN i % 5 = 0 THEN 2 END
FROM generate_series(1, 10000) AS i;
ANALYZE projects;
SQL
B="http://127.0.0.1:$PORT/api/v1"
curl -fsS -X POST "$B/auth/setup" -d '{"username":"bench","password":"benchmark passphrase"}' >/dev/null
TOKEN="$(curl -fsS -X POST "$B/auth/login" -d '{"username":"bench","password":"benchmark passphrase"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')"
SCRIPT="$(mktemp --suffix=.lua)"
cat >"$SCRIPT" <<'LUA'
wrk.method = "POST"
wrk.body = '{"search":"service 1","stack":"rust","limit":50}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
LUA
echo "POST /api/v1/projects/list {search, stack, limit 50} over 10,000 projects on PostgreSQL, wrk -t2 -c16 -d$DURATION:"
TOKEN="$TOKEN" wrk -t2 -c16 -d"$DURATION" --latency -s "$SCRIPT" "$B/projects/list" | sed -n '1,16p'
# Every request a different query (one of 5,000 searches, at random): the instance's kept pages
# (4,096 projects, about 80 pages of 50) rarely hold it, so this measures the query path.
cat >"$SCRIPT" <<'LUA'
math.randomseed(os.time())
local token = os.getenv("TOKEN")
request = function()
  local body = string.format('{"search":"service %d","limit":50}', math.random(1, 5000))
  return wrk.format("POST", nil, {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token}, body)
end
LUA
echo "the same, every request a different search (one of 5,000, at random: pages rarely kept):"
TOKEN="$TOKEN" wrk -t2 -c16 -d"$DURATION" --latency -s "$SCRIPT" "$B/projects/list" | sed -n '1,16p'
rm -f "$SCRIPT"
echo "server-rendered /projects (first 100 of 10,000 cards), 200 requests:"
for _ in $(seq 1 200); do
  curl -s -o /dev/null -H "Accept: text/html" -H "Cookie: optimus_access=$TOKEN" -w "%{time_total} %{size_download}\n" "http://127.0.0.1:$PORT/projects"
done | sort -n | awk '{t[NR]=$1; s=$2} END {printf "  p50 %.1f ms, p99 %.1f ms, max %.1f ms, %d bytes\n", t[int(NR*0.5)]*1000, t[int(NR*0.99)]*1000, t[NR]*1000, s}'
# The list's query as the server sends it (same filter, order and limit), planned and run by
# PostgreSQL: where its time goes.
echo "the list query's plan (EXPLAIN ANALYZE):"
psql "$URL" -Atc "EXPLAIN (ANALYZE, BUFFERS) SELECT * FROM projects
  WHERE search_text LIKE '%service%' ESCAPE '\\' AND search_text LIKE '%1%' ESCAPE '\\'
    AND stacks LIKE '% rust %' ESCAPE '\\' AND archived = false
  ORDER BY lower(name), id LIMIT 51" | sed -n '1,3p;/Execution Time/p' | sed 's/^/  /'
