#!/usr/bin/env bash
# Runs the GPU suite from a bundle made by scripts/bundle.sh: sets up the bundled libraries
# (gpu_env.sh), then runs the backend-conformance program and the ONNX node tests on the GPU.
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
exit $status
