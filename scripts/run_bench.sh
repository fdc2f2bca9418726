#!/usr/bin/env bash
# The benchmark: sets up (Debian packages, Python packages), builds `layerkit` and libtorch_bench
# into build/, writes the models and runs bench/run_bench.py (extra arguments go to it).
# Usage: scripts/run_bench.sh [--quick] [--models resnet50,bert_base,mlp] [...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${LAYERKIT_BUILD_DIR:-$root/build}
python=${PYTHON:-python3}

# libtorch-dev for libtorch_bench; Debian's libtorch takes its BLAS from whatever provides
# libblas.so.3, and the reference BLAS (libblas3) would make it a hundred times slower, so
# OpenBLAS (its recommended BLAS; the OpenMP build honours at::set_num_threads) comes too.
pkgs=(g++ cmake make ccache libprotobuf-dev protobuf-compiler libonnx-dev libdnnl-dev libgtest-dev
      libtorch-dev libopenblas0-openmp)
"$root/scripts/install_packages.sh" "${pkgs[@]}"
for mod in onnx onnxruntime numpy; do
  if ! "$python" -c "import $mod" 2>/dev/null; then
    echo "installing Python package $mod"
    "$python" -m pip install -q "$mod"
  fi
done

export CCACHE_BASEDIR="$root"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DLAYERKIT_BUILD_BENCH=ON >/dev/null
cmake --build "$build" -j"$(nproc)" --target layerkit_cli libtorch_bench fma_peak
# The models are rewritten only when the generator changed (they take a minute and ~800 MB).
sidecar="$build/bench_models/models.json"
if [ ! -f "$sidecar" ] || [ "$root/bench/gen_models.py" -nt "$sidecar" ]; then
  "$python" "$root/bench/gen_models.py" --out "$build/bench_models"
fi
exec "$python" "$root/bench/run_bench.py" --build "$build" "$@"
