#!/usr/bin/env bash
# Checks the operator's alert rules: promtool (unpacked from Debian's prometheus package into a
# cache, so no Prometheus server is installed or started) validates deploy/prometheus/rules.yml
# and runs its unit tests. That every metric the rules and the Grafana dashboard name is really
# exported is checked against a running Optimus by the integration test
# `monitoring::every_metric_the_rules_and_the_dashboard_use_is_exported`.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
log() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }

CACHE="${PROMTOOL_CACHE:-$HOME/.cache/optimus/prometheus}"
PROMTOOL="$CACHE/usr/bin/promtool"
if [ ! -x "$PROMTOOL" ]; then
  log "unpacking promtool from Debian's prometheus package into $CACHE"
  work="$(mktemp -d)"
  (cd "$work" && { apt-get download prometheus >/dev/null 2>&1 ||
    { apt-get update -qq && apt-get download prometheus >/dev/null 2>&1; }; })
  mkdir -p "$CACHE"
  dpkg-deb -x "$work"/prometheus_*.deb "$CACHE"
  rm -rf "$work"
fi

log "alert rules: promtool check and unit tests"
"$PROMTOOL" check rules deploy/prometheus/rules.yml
"$PROMTOOL" test rules deploy/prometheus/rules.test.yml
