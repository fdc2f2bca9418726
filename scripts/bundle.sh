#!/usr/bin/env bash
# Makes a relocatable folder that runs the GPU suite and the GPU benchmark on a host with only the
# NVIDIA driver and CUDA 13 present (e.g. Ubuntu 24.04, with PyTorch for the benchmark): the
# `layerkit` tool and the backend-conformance program built with CUDA (without MPI, which such
# hosts lack), the .debs of their non-CUDA runtime libraries and of the ONNX node tests,
# the exported test models, run_gpu_suite.sh, which unpacks them beside itself, and run_gpu_bench.sh with the benchmark's
# Python files and the wheels of the onnx package (the host writes the models itself: they are
# hundreds of MB) for CPython $LAYERKIT_GPU_PYTHON (default 3.12).
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
cp -r "$root/tests/onnx/data/exported" "$out/"
# The runtime libraries the binaries need beyond the CUDA ones, and the node tests.
(cd "$out/debs" && apt-get download libdnnl2 libonnx1 libprotobuf32 ocl-icd-libopencl1 \
  libonnx-testdata >/dev/null 2>&1)
cp "$root/scripts/run_gpu_suite.sh" "$root/scripts/run_gpu_bench.sh" "$root/scripts/gpu_env.sh" \
  "$out/"
mkdir -p "$out/bench"
cp "$root/bench/gpu_bench.py" "$root/bench/torch_gpu_bench.py" "$root/bench/torch_models.py" \
  "$root/bench/gen_models.py" "$out/bench/"
# onnx and the dependencies PyTorch does not bring; the driver installs each one the host lacks.
# onnx's wheels are manylinux_2_27/2_28 only, hence the platforms beyond manylinux2014.
py_version=${LAYERKIT_GPU_PYTHON:-3.12}
python3 -m pip download --quiet --only-binary=:all: --no-deps --dest "$out/wheels" \
  --python-version "$py_version" --implementation cp --platform manylinux_2_28_x86_64 \
  --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
  onnx==1.23.2 protobuf==7.36.2 ml_dtypes==0.7.0 typing_extensions==4.16.0
du -sh "$out"
