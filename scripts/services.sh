#!/usr/bin/env bash
# Makes sure PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379) answer, installing and
# starting Debian's packages when nothing does, and that Debian's Chromium, restic and
# PostgreSQL client (pg_dump, psql) are installed.
set -euo pipefail

log() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
APT_UPDATED=""
apt_install() {
  if [ -z "$APT_UPDATED" ]; then apt-get update -qq; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

if ! answers 5432; then
  log "PostgreSQL is not answering on 5432: installing/starting it"
  command -v pg_ctlcluster >/dev/null || apt_install postgresql
  version="$(ls /etc/postgresql | sort -V | tail -1)"
  sed -i "s/^#\?listen_addresses.*/listen_addresses = '127.0.0.1'/" "/etc/postgresql/$version/main/postgresql.conf"
  # Local trust auth, as on CI; the server only listens on loopback.
  sed -i -E 's/^(local|host)(\s+all\s+all\s+.*)\s(peer|scram-sha-256|md5)$/\1\2 trust/' "/etc/postgresql/$version/main/pg_hba.conf"
  sed -i -E 's/^(local\s+all\s+postgres\s+)peer$/\1trust/' "/etc/postgresql/$version/main/pg_hba.conf"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start
  for _ in $(seq 1 30); do answers 5432 && break; sleep 1; done
fi

if ! answers 6379; then
  log "Redis is not answering on 6379: installing/starting it"
  command -v redis-server >/dev/null || apt_install redis-server
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
  for _ in $(seq 1 30); do answers 6379 && break; sleep 1; done
fi

if ! command -v chromium >/dev/null; then
  log "installing Debian's Chromium"
  apt_install chromium
fi

# Backups dump PostgreSQL databases with `pg_dump` and restore them with `psql`.
if ! command -v pg_dump >/dev/null || ! command -v psql >/dev/null; then
  log "installing Debian's PostgreSQL client"
  apt_install postgresql-client
fi

# Backups are tested against Debian's plain `restic` (it must read what Optimus writes).
if ! command -v restic >/dev/null; then
  log "installing Debian's restic"
  apt_install restic
fi

# Remote backup repositories go through Debian's `rclone` (`rclone serve restic`); the tests
# serve SFTP on loopback with it too.
if ! command -v rclone >/dev/null; then
  log "installing Debian's rclone"
  apt_install rclone
fi

# The remote-repository tests make the SFTP server's keys with `ssh-keygen`.
if ! command -v ssh-keygen >/dev/null; then
  log "installing Debian's OpenSSH client"
  apt_install openssh-client
fi

# The email-channel tests receive mail with aiosmtpd (PyPI), in a virtualenv of its own.
AIOSMTPD_VERSION=1.4.6
SMTP_VENV="${OPTIMUS_SMTP_VENV:-$HOME/.cache/optimus/aiosmtpd}"
if ! "$SMTP_VENV/bin/python" -c "import aiosmtpd" 2>/dev/null; then
  log "installing aiosmtpd $AIOSMTPD_VERSION into $SMTP_VENV"
  python3 -m venv "$SMTP_VENV"
  "$SMTP_VENV/bin/pip" install -q --disable-pip-version-check "aiosmtpd==$AIOSMTPD_VERSION"
fi
