#!/usr/bin/env bash
# Install the real Prometheus and Alertmanager tools from Debian when any is missing:
# promtool, prometheus (2.42), amtool, prometheus-alertmanager (0.25).
set -euo pipefail

need=()
for tool in promtool prometheus amtool prometheus-alertmanager; do
  command -v "$tool" >/dev/null 2>&1 || need+=("$tool")
done
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
echo "install-tools: missing ${need[*]}; installing prometheus and prometheus-alertmanager" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends prometheus prometheus-alertmanager >/dev/null
# The packages start their services where a service manager runs; tests use their own ports and
# must not find stray servers on 9090/9093.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  $SUDO systemctl disable --now prometheus prometheus-alertmanager prometheus-node-exporter \
    >/dev/null 2>&1 || true
fi
