#!/usr/bin/env bash
# Installs the Debian 12 packages meterbridge needs to build, test and run,
# only when some are missing. Safe to run repeatedly.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config
  clang libclang-rt-14-dev
  libmosquitto-dev mosquitto mosquitto-clients
  libgloox-dev libgnutls28-dev prosody
  libpugixml-dev libsimdjson-dev libboost-dev
  libsqlite3-dev sqlite3
  libgtest-dev libgmock-dev
  libtomlplusplus-dev libcli11-dev libspdlog-dev libfmt-dev
  libsystemd-dev systemd libhowardhinnant-date-dev tzdata libssl-dev
  openssl python3 python3-paho-mqtt
  prometheus-cpp-dev prometheus
  debhelper dpkg-dev fakeroot lintian man-db debootstrap systemd-container
  chromium-headless-shell fonts-dejavu-core
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The packages start system-wide brokers/servers; tests run their own on free ports.
for svc in mosquitto prosody; do
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null; then
    ${SUDO:-} systemctl stop "$svc" >/dev/null 2>&1 || true
  fi
done
