#!/usr/bin/env bash
# Installs what is missing, builds natsd (Release, Ninja) and starts it with
# its defaults (port 4222, like nats-server). Extra arguments go to natsd.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh build
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DNATSD_BUILD_TESTS=OFF -DNATSD_BUILD_BENCH=OFF >/dev/null
ninja -C build natsd
exec build/server/natsd "$@"
