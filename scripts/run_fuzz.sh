#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz/ (clang-14, ASan + UBSan, no CUDA) in build-fuzz/ and
# runs one for SECONDS on a corpus seeded from tests/fuzz/seeds/ (and, for fuzz_onnx_import, the
# ONNX backend node test models). Usage: scripts/run_fuzz.sh TARGET SECONDS [libFuzzer flags...]
# A crash, leak, timeout or OOM input is written to build-fuzz/artifacts/TARGET/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
if [[ $# -lt 2 ]]; then
  echo "usage: $0 fuzz_onnx_import|fuzz_engine_load|fuzz_cli_options SECONDS [libFuzzer flags]" >&2
  exit 2
fi
target=$1 seconds=$2
shift 2
build=${LAYERKIT_FUZZ_BUILD_DIR:-$root/build-fuzz}
export CCACHE_BASEDIR=$root
if [[ ! -f $build/CMakeCache.txt ]]; then
  CC=clang-14 CXX=clang++-14 cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DLAYERKIT_FUZZ=ON -DLAYERKIT_WITH_CUDA=OFF -DLAYERKIT_BUILD_TESTS=OFF >/dev/null
fi
cmake --build "$build" -j"${LAYERKIT_FUZZ_JOBS:-2}" --target "$target"

corpus=$build/corpus/$target
mkdir -p "$corpus" "$build/artifacts/$target"
seeds=("$root/tests/fuzz/seeds/$target")
node_tests=/usr/share/libonnx-testdata/data/node
if [[ $target == fuzz_onnx_import && -d $node_tests && -z "$(ls -A "$corpus")" ]]; then
  for d in "$node_tests"/*/; do cp "$d/model.onnx" "$corpus/$(basename "$d").onnx"; done
fi
# Regressions join the run so that a fixed bug stays fixed under mutation as well.
[[ -d $root/tests/fuzz/regressions/$target ]] && seeds+=("$root/tests/fuzz/regressions/$target")
# -rss_limit_mb: an input whose claimed sizes make the process grow past 2 GiB is an OOM finding;
# -timeout: one input running past 10 s is a hang finding.
exec "$build/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
  -max_len=65536 -print_final_stats=1 -artifact_prefix="$build/artifacts/$target/" \
  "$@" "$corpus" "${seeds[@]}"
