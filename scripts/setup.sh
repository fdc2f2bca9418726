#!/usr/bin/env bash
# Installs the Debian packages layerkit needs (when missing) and configures + builds it.
# Usage: scripts/setup.sh [--tests] [TARGET...]
#   --tests also installs libtorch, the test oracle; TARGETs limit the build (default: all).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${LAYERKIT_BUILD_DIR:-$root/build}
with_tests=OFF
if [ "${1:-}" = "--tests" ]; then
  with_tests=ON
  shift
fi
targets=()
for t in "$@"; do targets+=(--target "$t"); done

source "$root/scripts/packages.sh"
pkgs=("${layerkit_build_packages[@]}")
[ "$with_tests" = ON ] && pkgs+=("${layerkit_test_packages[@]}")
"$root/scripts/install_packages.sh" "${pkgs[@]}"

export CCACHE_BASEDIR="$root"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DLAYERKIT_BUILD_TESTS=$with_tests >/dev/null
cmake --build "$build" -j"$(nproc)" "${targets[@]}"
