#!/usr/bin/env bash
# Install the real parts the resource and PostgreSQL tests run, from Debian, when any is missing:
# prometheus-node-exporter, prometheus-postgres-exporter and postgresql (initdb, pg_ctl, postgres).
# Idempotent: with everything present it installs nothing. Whether it installed or not, it leaves
# none of them running as a system service: the tests start their own on 127.0.0.1 with free ports,
# and a packaged server on 9100/9187/5432 would answer in their place.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

have_postgres() {
  # Debian keeps the server binaries out of PATH, under /usr/lib/postgresql/<major>/bin.
  command -v pg_ctl >/dev/null 2>&1 && return 0
  compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" >/dev/null
}

need=()
command -v prometheus-node-exporter >/dev/null 2>&1 || need+=(prometheus-node-exporter)
command -v prometheus-postgres-exporter >/dev/null 2>&1 || need+=(prometheus-postgres-exporter)
have_postgres || need+=(postgresql)

if [ ${#need[@]} -gt 0 ]; then
  echo "install-parts: installing ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# Stop and disable the packaged services (they start on install where a service manager runs).
services=(prometheus-node-exporter prometheus-postgres-exporter postgresql)
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  $SUDO systemctl disable --now "${services[@]}" >/dev/null 2>&1 || true
else
  for s in "${services[@]}"; do
    if [ -x "/etc/init.d/$s" ]; then
      $SUDO "/etc/init.d/$s" stop >/dev/null 2>&1 || true
    fi
  done
fi
# A cluster the package created (Debian's "main") may still be up without a service manager.
if command -v pg_lsclusters >/dev/null 2>&1; then
  pg_lsclusters --no-header 2>/dev/null | while read -r version cluster _port status _rest; do
    if [ "$status" = "online" ]; then
      $SUDO pg_ctlcluster "$version" "$cluster" stop >/dev/null 2>&1 || true
    fi
  done
fi
exit 0
