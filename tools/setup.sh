#!/usr/bin/env bash
# Installs geossl's build dependencies (Debian 12), configures and builds it.
#   bash tools/setup.sh            Release build in build/
#   BUILD_DIR=x CMAKE_ARGS=... bash tools/setup.sh
set -euo pipefail
cd "$(dirname "$0")/.."

bash tools/install-deps.sh

BUILD_DIR=${BUILD_DIR:-build}
# shellcheck disable=SC2086
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-Release} ${CMAKE_ARGS:-} >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)"
