#!/usr/bin/env bash
# Runs the GPU suite from a bundle made by scripts/bundle.sh: unpacks the bundled .debs beside
# itself (once), finds cuBLASLt and cuDNN (the system's, or those of a Python environment's
# nvidia-* packages, as PyTorch installs them), then runs the backend-conformance program and
# the ONNX node tests on the GPU. Extra arguments go to `layerkit conformance`.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
libs="$here/root"
if [ ! -d "$libs" ]; then
  mkdir -p "$libs"
  for d in "$here"/debs/*.deb; do dpkg -x "$d" "$libs"; done
fi
path="$libs/usr/lib/x86_64-linux-gnu"
# cuBLASLt and cuDNN: the dynamic loader's own first, else a Python environment's wheels.
if ! ldconfig -p | grep -q libcudnn.so.9 || ! ldconfig -p | grep -q libcublasLt.so.13; then
  py=$(command -v python3 || true)
  if [ -n "$py" ]; then
    for mod in nvidia.cudnn nvidia.cublas nvidia.cu13 nvidia; do
      dir=$("$py" -c "import $mod, os; print(os.path.dirname($mod.__file__) if $mod.__file__ else list($mod.__path__)[0])" 2>/dev/null) || continue
      for lib in $(find "$dir" -name 'libcudnn.so.9' -o -name 'libcublasLt.so.13' 2>/dev/null); do
        path="$path:$(dirname "$lib")"
      done
    done
  fi
fi
export LD_LIBRARY_PATH="$path${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
status=0
echo "== backend conformance (CPU reference vs CUDA)"
"$here/bin/backend_conformance" || status=1
echo "== ONNX node tests on the GPU"
"$here/bin/layerkit" conformance "$libs/usr/share/libonnx-testdata/data/node" --device=cuda \
  --skipList="$here/conformance_skip.txt" "$@" || status=1
exit $status
