#!/usr/bin/env bash
# Makes a relocatable folder that runs the GPU suite on a host with only the NVIDIA driver and
# CUDA 13 present (e.g. Ubuntu 24.04): the `layerkit` tool and the backend-conformance program
# built with CUDA (without MPI, which such hosts lack), the .debs of their non-CUDA runtime
# libraries and of the ONNX node tests, and run_gpu_suite.sh, which unpacks them beside itself.
# Usage: scripts/bundle.sh [OUT_DIR]   (default: build-gpu/bundle)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${LAYERKIT_GPU_BUILD_DIR:-$root/build-gpu}
out=${1:-$build/bundle}
source "$root/scripts/packages.sh"
"$root/scripts/install_packages.sh" "${layerkit_build_packages[@]}"
export CCACHE_BASEDIR="$root"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DLAYERKIT_BUILD_TESTS=OFF \
  -DLAYERKIT_WITH_CUDA=ON -DCMAKE_DISABLE_FIND_PACKAGE_MPI=ON >/dev/null
cmake --build "$build" -j"$(nproc)" --target layerkit_cli backend_conformance
rm -rf "$out"
mkdir -p "$out/bin" "$out/debs"
cp "$build/layerkit" "$build/backend_conformance" "$out/bin/"
strip "$out/bin/"*
cp "$root/tools/layerkit/conformance_skip.txt" "$out/"
# The runtime libraries the binaries need beyond the CUDA ones, and the node tests.
(cd "$out/debs" && apt-get download libdnnl2 libonnx1 libprotobuf32 ocl-icd-libopencl1 \
  libonnx-testdata >/dev/null 2>&1)
cp "$root/scripts/run_gpu_suite.sh" "$out/"
du -sh "$out"
