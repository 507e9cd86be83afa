#!/usr/bin/env bash
# The container image, built and run for real under Debian's docker.io engine (installed and
# started by scripts/docker.sh when absent):
#   1. The Dockerfile's runtime stage is built on a Debian bookworm base made from Debian's
#      packages (debootstrap --variant=minbase, docker import: no image registry is reachable),
#      fed with the release build scripts/build.sh made (BINARIES=prebuilt).
#   2. The image runs alone: its HEALTHCHECK must report healthy, the owner is created and signs
#      in through the API, and `docker stop` must end it with exit code 0.
#   3. deploy/docker-compose.yml brings it up with PostgreSQL and Redis, those two from stand-in
#      images made from Debian's packages (scripts/container/), with the same checks, and
#      /readyz must report both reachable; `optimus self-backup` run inside it dumps that
#      PostgreSQL with the image's own pg_dump.
# Prints the image size and the start-to-healthy times. Needs root (the engine runs as root).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
log() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
fail() { printf '\033[1;31mcontainer test failed:\033[0m %s\n' "$*" >&2; exit 1; }

TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
BASE="optimus-ci/debian:bookworm-minbase"
SERVICES="optimus-ci/services:bookworm"
IMAGE="optimus:ci"
PASSWORD="correct horse battery staple"

[ -x "$TARGET/release/optimus" ] && [ -x "$TARGET/release/optimus-shim" ] &&
  [ -x "$TARGET/release/optimus-proxy" ] && [ -d "$ROOT/target/site/pkg" ] ||
  fail "no release build: run scripts/build.sh first"

APT_UPDATED=""
apt_install() {
  if [ -z "$APT_UPDATED" ]; then apt-get update -qq; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

bash "$ROOT/scripts/docker.sh"
command -v docker-compose >/dev/null || { log "installing Debian's docker-compose"; apt_install docker-compose; }
command -v debootstrap >/dev/null || apt_install debootstrap
DOCKER=/usr/bin/docker
export DOCKER_BUILDKIT=1

if ! "$DOCKER" image inspect "$BASE" >/dev/null 2>&1; then
  log "making the base image $BASE from Debian's packages (debootstrap)"
  rootfs="$(mktemp -d)"
  debootstrap --variant=minbase bookworm "$rootfs" "$MIRROR" >/dev/null
  # What debian:bookworm-slim leaves out too: package caches, documentation, manuals, locales.
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/lib/apt/lists/* \
    "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* \
    "$rootfs"/usr/share/locale/*
  tar -C "$rootfs" -c . | "$DOCKER" import - "$BASE" >/dev/null
  rm -rf "$rootfs"
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
api() { # api PORT PATH JSON [TOKEN]: prints the body, fails unless 200
  local auth=()
  [ -n "${4:-}" ] && auth=(-H "Authorization: Bearer $4")
  curl -fsS -X POST "http://127.0.0.1:$1/api/v1/$2" -H 'Content-Type: application/json' "${auth[@]}" -d "$3" ||
    fail "$2 did not answer 200"
}
# Waits for container $1's HEALTHCHECK to say healthy; prints the seconds since $2 (epoch ns).
wait_healthy() {
  local status
  for _ in $(seq 1 600); do
    status="$("$DOCKER" inspect -f '{{.State.Health.Status}}' "$1")"
    case "$status" in
      healthy) python3 -c "import time; print(f'{(time.time_ns() - $2) / 1e9:.1f}')"; return 0 ;;
      unhealthy) "$DOCKER" logs "$1" 2>&1 | tail -20 >&2; fail "$1 reported unhealthy" ;;
    esac
    sleep 0.2
  done
  "$DOCKER" logs "$1" 2>&1 | tail -20 >&2
  fail "$1 was not healthy within 120 s (last status: $status)"
}
# Creates the owner, signs in with the password, and checks who the token belongs to.
sign_in() {
  api "$1" auth/setup "{\"username\":\"owner\",\"password\":\"$PASSWORD\"}" >/dev/null
  local token
  token="$(api "$1" auth/login "{\"username\":\"owner\",\"password\":\"$PASSWORD\"}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')"
  api "$1" auth/me '{}' "$token" | grep -q '"username":"owner"' || fail "auth/me did not name the owner"
}

log "building the image's runtime stage with this release build"
context="$(mktemp -d)"
containers=()
cleanup() {
  for c in "${containers[@]}"; do "$DOCKER" rm -f "$c" >/dev/null 2>&1 || true; done
  [ -n "${COMPOSE_UP:-}" ] && docker-compose "${COMPOSE_ARGS[@]}" down -v >/dev/null 2>&1
  rm -rf "$context"
}
trap cleanup EXIT
cp Dockerfile "$context/Dockerfile"
mkdir -p "$context/prebuilt"
cp "$TARGET/release/optimus" "$TARGET/release/optimus-shim" "$TARGET/release/optimus-proxy" \
  "$context/prebuilt/"
# As the build stage does.
strip "$context/prebuilt/optimus" "$context/prebuilt/optimus-shim" "$context/prebuilt/optimus-proxy"
cp -r "$ROOT/target/site" "$context/prebuilt/site"
"$DOCKER" build -q --network host --build-arg RUNTIME_BASE="$BASE" --build-arg BINARIES=prebuilt \
  -t "$IMAGE" "$context" >/dev/null
# Earlier builds of this tag, left untagged by this one.
"$DOCKER" image prune -f --filter "label=org.opencontainers.image.title=optimus" >/dev/null
size="$("$DOCKER" image inspect -f '{{.Size}}' "$IMAGE")"
log "image $IMAGE: $((size / 1024 / 1024)) MiB"
# Remote backup repositories need rclone in the image (and it must run as Optimus's user).
"$DOCKER" run --rm --entrypoint rclone "$IMAGE" version >/dev/null \
  || fail "the image's rclone does not run"

log "running the image alone (SQLite in its volume)"
port="$(free_port)"
name="optimus-ci-$$"
started="$(date +%s%N)"
"$DOCKER" run -d --name "$name" -p "127.0.0.1:$port:8005" "$IMAGE" >/dev/null
containers+=("$name")
for _ in $(seq 1 300); do curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
answered="$(python3 -c "import time; print(f'{(time.time_ns() - $started) / 1e9:.1f}')")"
healthy="$(wait_healthy "$name" "$started")"
log "answering ${answered} s and healthy ${healthy} s after docker run (the first check runs 5 s in)"
[ "$("$DOCKER" exec "$name" id -u)" = 10001 ] || fail "the server does not run as uid 10001"
sign_in "$port"
"$DOCKER" stop -t 20 "$name" >/dev/null
code="$("$DOCKER" inspect -f '{{.State.ExitCode}}' "$name")"
[ "$code" = 0 ] || { "$DOCKER" logs "$name" 2>&1 | tail -20 >&2; fail "docker stop ended it with exit code $code"; }
"$DOCKER" logs "$name" 2>&1 | grep -q '"stopped"' || fail "no clean shutdown in its log"

log "deploy/docker-compose.yml with PostgreSQL and Redis (stand-ins from Debian's packages)"
"$DOCKER" build -q --network host --build-arg BASE="$BASE" -t "$SERVICES" scripts/container >/dev/null
port="$(free_port)"
export OPTIMUS_PUBLISH="127.0.0.1:$port" OPTIMUS_IMAGE="$IMAGE" SERVICES_IMAGE="$SERVICES"
export OPTIMUS_JWT_SECRET="ci-jwt-secret-$(head -c 24 /dev/urandom | base64 | tr -d '/+=')"
export OPTIMUS_MASTER_KEY="ci-master-key-$(head -c 24 /dev/urandom | base64 | tr -d '/+=')"
COMPOSE_ARGS=(-p "optimus-ci-$$" -f deploy/docker-compose.yml -f scripts/container/compose.offline.yml)
started="$(date +%s%N)"
COMPOSE_UP=1
docker-compose "${COMPOSE_ARGS[@]}" up -d --no-build >/dev/null 2>&1 ||
  { docker-compose "${COMPOSE_ARGS[@]}" logs --tail 30 >&2; fail "docker-compose up failed"; }
optimus="$(docker-compose "${COMPOSE_ARGS[@]}" ps -q optimus)"
healthy="$(wait_healthy "$optimus" "$started")"
log "compose: Optimus healthy ${healthy} s after docker-compose up (PostgreSQL and Redis first)"
ready="$(curl -fsS "http://127.0.0.1:$port/readyz")" || fail "/readyz did not answer 200"
echo "$ready" | python3 -c '
import json, sys
r = json.load(sys.stdin)
assert r["database"] == "ok" and r["redis"] == "ok", r
' || fail "/readyz does not report PostgreSQL and Redis reachable: $ready"
sign_in "$port"
docker-compose "${COMPOSE_ARGS[@]}" exec -T postgres psql -U optimus -d optimus -Atc "SELECT username FROM users" |
  grep -qx owner || fail "the owner signed in but is not in the compose PostgreSQL"
# pg_dump in the image (copied without Debian's wrapper package) dumps the compose PostgreSQL.
backed="$(docker-compose "${COMPOSE_ARGS[@]}" exec -T optimus optimus self-backup 2>&1)" ||
  fail "optimus self-backup in the image failed: $backed"
echo "$backed" | grep -q '^backed up: snapshot ' || fail "optimus self-backup said: $backed"
log "compose: $backed"
docker-compose "${COMPOSE_ARGS[@]}" stop -t 20 optimus >/dev/null 2>&1
code="$("$DOCKER" inspect -f '{{.State.ExitCode}}' "$optimus")"
[ "$code" = 0 ] || fail "compose stop ended Optimus with exit code $code"
log "container checks passed"
