#!/usr/bin/env bash
# Installs every build and test dependency of Huddle on Debian bookworm (run as root).
# Safe to run twice: apt and npm only do work when something is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_packages=(
  build-essential cmake ninja-build ccache pkg-config clang clang-format libclang-rt-14-dev
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libssl-dev zlib1g-dev nlohmann-json3-dev libcpp-jwt-dev libspdlog-dev libfmt-dev libcli11-dev libtomlplusplus-dev
  libsqlite3-dev libpq-dev postgresql libgtest-dev libgmock-dev libbenchmark-dev
  libhiredis-dev redis-server  # the Redis broker; the broker tests start their own redis-server
  chromium  # the browser tests of the demo pages (tests/browser) drive it headless
)
# Node (for the real-client tests): keep the machine's own if it has one (it brings npm).
command -v npm >/dev/null 2>&1 || apt_packages+=(nodejs npm)

missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
