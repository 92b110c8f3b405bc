#!/usr/bin/env bash
# Installs the Debian 12 packages natsd needs: `build` for building and
# running it, `test` adds what the test suite uses (the reference nats-server,
# the official C/Go/JavaScript clients, clang for libFuzzer).
# Only missing packages are installed; apt-get runs through sudo when not root.
set -euo pipefail

build_pkgs=(cmake ninja-build g++ pkg-config libasio-dev libfmt-dev rapidjson-dev
  libabsl-dev libgtest-dev libgmock-dev libbenchmark-dev liburing-dev libssl-dev)
test_pkgs=(nats-server libnats-dev golang-go golang-github-nats-io-go-nats-dev
  clang libclang-rt-14-dev python3)

want=("${build_pkgs[@]}")
if [[ "${1:-build}" == test ]]; then want+=("${test_pkgs[@]}"); fi

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
# Node.js with npm for the nats.js conformance cases. Debian ships npm as its
# own package; NodeSource's nodejs bundles it (and conflicts with Debian's).
if [[ "${1:-build}" == test ]] && ! command -v npm >/dev/null; then
  missing+=(nodejs npm)
fi

if ((${#missing[@]})); then
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO=sudo
  echo "Installing: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
