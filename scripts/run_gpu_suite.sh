#!/usr/bin/env bash
# Runs the GPU suite from a bundle made by scripts/bundle.sh: sets up the bundled libraries
# (gpu_env.sh), then runs the backend-conformance program, the ONNX node tests and the exported
# test models on the GPU, and the built-in model on the GPU checked against the CPU engine.
# Extra arguments go to `layerkit conformance`.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/gpu_env.sh
source "$here/gpu_env.sh"
status=0
echo "== backend conformance (CPU reference vs CUDA)"
"$here/bin/backend_conformance" || status=1
echo "== ONNX node tests on the GPU"
"$here/bin/layerkit" conformance "$libs/usr/share/libonnx-testdata/data/node" --device=cuda \
  --skipList="$here/conformance_skip.txt" "$@" || status=1
echo "== exported test models on the GPU (their exporter's reference outputs)"
"$here/bin/layerkit" conformance "$here/exported" --device=cuda \
  --skipList="$here/conformance_skip.txt" "$@" || status=1
# The exported-model corpus (the repository's tests/models, 16 MB) is not in the bundle: point
# LAYERKIT_GPU_MODELS at a copy of it (default: models/ beside this script).
models="${LAYERKIT_GPU_MODELS:-$here/models}"
if [ -f "$models/known_failures.txt" ]; then
  echo "== exported-model corpus on the GPU (PyTorch's reference outputs, cosine metric)"
  "$here/bin/layerkit" conformance "$models" --device=cuda --metric=cosine \
    --skipList="$models/known_failures.txt" "$@" || status=1
else
  echo "== exported-model corpus: skipped, no corpus at $models (set LAYERKIT_GPU_MODELS)"
fi
# The built-in model against the CPU engine on the same inputs: fp32 must agree to the last
# digits, fp16 (fp32 accumulation) to a cosine of 0.9999.
check_against_cpu() {
  local min=$1
  shift
  echo "== built-in model on the GPU $*, checked against the CPU engine (cosine >= $min)"
  local out
  out=$("$here/bin/layerkit" run --device=cuda --checkAgainst=cpu --iterations=20 "$@") || {
    echo "$out"
    status=1
    return
  }
  echo "$out" | grep -E "median|check against cpu"
  echo "$out" | awk -v min="$min" '/check against cpu/ { seen = 1; for (i = 1; i < NF; ++i)
    if ($i == "cosine") { c = $(i + 1); sub(",", "", c); if (c + 0 < min) bad = 1 } }
    END { exit !(seen && !bad) }' || { echo "FAIL: cosine below $min"; status=1; }
}
check_against_cpu 0.9999999
check_against_cpu 0.9999 --fp16
check_against_cpu 0.999 --bf16
exit $status
