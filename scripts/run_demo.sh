#!/usr/bin/env bash
# The main job: set up, build the `layerkit` tool, and run its built-in default model (a small
# ResNet-style CNN) on the CPU engine with a per-layer profile. Extra arguments go to
# `layerkit run` (e.g. --shapes=input:8x3x32x32 --iterations=50).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh" layerkit_cli
"${LAYERKIT_BUILD_DIR:-$root/build}/layerkit" run --dumpProfile "$@"
