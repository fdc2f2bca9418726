# shellcheck shell=bash
# Sourced by the GPU bundle's scripts (run_gpu_suite.sh, run_gpu_bench.sh) with `here` set to the
# bundle: unpacks the bundled .debs beside it (once) into $libs, then finds cuBLASLt and cuDNN (the
# system's, or those of a Python environment's nvidia-* packages, as PyTorch installs them) and
# exports LD_LIBRARY_PATH for bin/.
libs="${here:?}/root"
if [ ! -d "$libs" ]; then
  mkdir -p "$libs"
  for d in "$here"/debs/*.deb; do dpkg -x "$d" "$libs"; done
fi
path="$libs/usr/lib/x86_64-linux-gnu"
# cuBLASLt and cuDNN: the dynamic loader's own first, else a Python environment's wheels.
if ! ldconfig -p | grep -q libcudnn.so.9 || ! ldconfig -p | grep -q libcublasLt.so.13; then
  py=$(command -v "${PYTHON:-python3}" || true)
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
