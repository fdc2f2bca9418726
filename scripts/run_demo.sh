#!/usr/bin/env bash
# The main job: set up, build, and run the demo network on the CPU engine.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
"${LAYERKIT_BUILD_DIR:-$root/build}/layerkit_demo" "$@"
