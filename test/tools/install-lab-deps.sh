#!/usr/bin/env bash
# Installs what the lab needs on a Debian 12 machine when it is missing: systemd-nspawn
# (systemd-container) and iproute2/util-linux (ip, nsenter). Idempotent; needs root to install.
# Note: installing systemd-container also upgrades the host's systemd packages (harmless here).
set -euo pipefail
need=()
command -v systemd-nspawn >/dev/null || need+=(systemd-container)
command -v ip >/dev/null || need+=(iproute2)
command -v nsenter >/dev/null || need+=(util-linux)
if [ ${#need[@]} -eq 0 ]; then echo "lab prerequisites present"; exit 0; fi
if [ "$(id -u)" != 0 ]; then echo "the lab needs root to install: ${need[*]}" >&2; exit 1; fi
echo "installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -qq "${need[@]}" >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null; }
command -v systemd-nspawn >/dev/null
