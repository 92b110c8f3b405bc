#!/usr/bin/env bash
# Installs what the tests need, builds everything and runs every test: unit
# tests, the conformance suite against natsd and the reference nats-server,
# and a short run of each libFuzzer target (clang build in build-fuzz/).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh test

jobs=$(nproc)
cmake -S . -B build-test -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C build-test -j"$jobs"
(cd build-test && ctest --output-on-failure -j"$jobs" --timeout 600)

CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DNATSD_FUZZ=ON >/dev/null
ninja -C build-fuzz -j"$jobs"
(cd build-fuzz && ctest --output-on-failure --timeout 300)
