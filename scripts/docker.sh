#!/usr/bin/env bash
# The Docker Engine the tests use: Debian's docker.io, installed and started here when absent
# (no image registry is reachable: test images are built from Debian's packages, such as the
# static busybox installed here too). Used by the test command before the Rust tests (the
# deployments' Docker target runs against it) and by scripts/container.sh. Needs root.
set -euo pipefail
log() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }

APT_UPDATED=""
apt_install() {
  if [ -z "$APT_UPDATED" ]; then apt-get update -qq; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# Debian's own client: BuildKit without the buildx plugin, which a newer client would demand.
if [ ! -x /usr/sbin/dockerd ] || [ ! -x /usr/bin/docker ]; then
  log "installing Debian's docker.io"
  apt_install docker.io
fi
# A statically linked busybox: a whole web server in one file, for images built FROM scratch.
if ! file -L /bin/busybox 2>/dev/null | grep -q 'statically linked'; then
  log "installing Debian's busybox-static"
  apt_install busybox-static file
fi
if ! /usr/bin/docker info >/dev/null 2>&1; then
  log "starting dockerd"
  mkdir -p "$HOME/.cache/optimus"
  nohup /usr/sbin/dockerd >"$HOME/.cache/optimus/dockerd.log" 2>&1 &
  for _ in $(seq 1 60); do /usr/bin/docker info >/dev/null 2>&1 && break; sleep 0.5; done
  /usr/bin/docker info >/dev/null 2>&1 || { echo "dockerd did not start (see ~/.cache/optimus/dockerd.log)" >&2; exit 1; }
fi
