#!/usr/bin/env bash
# Runs the GPU benchmark (bench/gpu_bench.py) from a bundle made by scripts/bundle.sh: sets up the
# bundled libraries (gpu_env.sh), then runs the driver with the Python that has PyTorch
# ($PYTHON, default python3). Arguments go to the driver; see bench/gpu_bench.py --help.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/gpu_env.sh
source "$here/gpu_env.sh"
export LAYERKIT_GPU_BENCH_ENTRY="$0"
exec "${PYTHON:-python3}" "$here/bench/gpu_bench.py" "$@"
