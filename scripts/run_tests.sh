#!/usr/bin/env bash
# Runs the whole test suite: set up (installing packages when missing), build, then ctest.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh" --tests
cd "${LAYERKIT_BUILD_DIR:-$root/build}"
ctest --output-on-failure -j"$(nproc)"
