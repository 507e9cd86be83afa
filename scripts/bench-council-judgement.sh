#!/usr/bin/env bash
# Council judgement (issue 18): the 44 labelled situations of
# app/src/server/council/judgement/situations.json, scored.
#  1. Offline, as plain facts: every call with its kind, raw confidence, evidence coverage and
#     conflict; accuracy, Brier score and mean confidence on clear and split cases with the
#     shipped calibration, a refit, and the refit's leave-one-out figures.
#  2. Through the API of a test server on the embedded SQLite default (PostgreSQL and Redis when
#     OPTIMUS_TEST_DATABASE_URL / OPTIMUS_TEST_REDIS_URL are set), half of the situations
#     built with real git repositories, service processes, pipeline runs and backups: the same
#     figures, as the product answers them.
# Usage: bash scripts/bench-council-judgement.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
echo "== offline, as plain facts"
cargo test -q -p app --features ssr --lib judgement::bench -- --nocapture 2>&1 |
  grep -Ev '^(running|test result|$)'
echo
echo "== through the API (real processes and git repositories)"
REPORT="$(mktemp)"
trap 'rm -f "$REPORT"' EXIT
OPTIMUS_JUDGEMENT_REPORT="$REPORT" cargo test -q -p server --test api \
  council_judgement -- --nocapture 2>&1 | grep -Ev '^(running|test result|$)'
