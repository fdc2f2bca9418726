#!/usr/bin/env bash
# The benchmark: sets up (Debian packages, Python packages), builds `layerkit` and libtorch_bench
# into build/, writes the models and runs bench/run_bench.py (extra arguments go to it).
# Usage: scripts/run_bench.sh [--quick] [--models resnet50,bert_base,mlp] [...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${LAYERKIT_BUILD_DIR:-$root/build}
python=${PYTHON:-python3}

# libtorch-dev for libtorch_bench, with OpenBLAS (scripts/packages.sh says why).
source "$root/scripts/packages.sh"
pkgs=("${layerkit_build_packages[@]}" "${layerkit_bench_packages[@]}")
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
  # The GPU benchmark's gpt2_stack is written on the GPU host (bench/gpu_bench.py), not here.
  "$python" "$root/bench/gen_models.py" --out "$build/bench_models" --models resnet50,bert_base,mlp
fi
exec "$python" "$root/bench/run_bench.py" --build "$build" "$@"
