#!/usr/bin/env bash
# Builds layerkit with sanitizers in a build folder of its own and runs tests there.
# Usage: scripts/run_sanitized.sh [address,undefined|thread] [-R REGEX]
#   address,undefined (default): ASan + UBSan in build-asan, the whole ctest suite (or the tests
#   matching REGEX); thread: TSan in build-tsan, the concurrency tests only.
# LAYERKIT_SANITIZE_BUILD_DIR overrides the folder; CUDA is off (the sanitizers instrument host
# code only). Set LAYERKIT_SANITIZE_JOBS to bound the build's and ctest's parallelism, and
# LAYERKIT_SANITIZE_TARGETS (space-separated) to build only those targets (with -R, for a subset).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
kind=${1:-address,undefined}
shift || true
case "$kind" in
  address,undefined) dir=build-asan ;;
  thread) dir=build-tsan ;;
  *) echo "usage: $0 [address,undefined|thread] [-R REGEX]" >&2; exit 2 ;;
esac
build=${LAYERKIT_SANITIZE_BUILD_DIR:-$root/$dir}
jobs=${LAYERKIT_SANITIZE_JOBS:-$(nproc)}

export CCACHE_BASEDIR="$root"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS=-g1 -DLAYERKIT_BUILD_TESTS=ON \
  -DLAYERKIT_WITH_CUDA=OFF -DLAYERKIT_BUILD_BENCH=OFF "-DLAYERKIT_SANITIZE=$kind" >/dev/null

# Leaks are reported at exit (detect_leaks); a report fails the program, hence the test.
# Protobuf and libtorch keep process-lifetime singletons that LeakSanitizer would call leaks; the
# suppressions name only those libraries.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:detect_odr_violation=0}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$root/scripts/sanitizer/lsan.supp:print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-suppressions=$root/scripts/sanitizer/tsan.supp:halt_on_error=1:second_deadlock_stack=1}

if [ "$kind" = thread ]; then
  # The tests that run engines from several threads; OpenMP stays at one thread, since libgomp's
  # own synchronisation is invisible to TSan.
  export OMP_NUM_THREADS=1
  export GTEST_FILTER=${GTEST_FILTER:-'*Concurren*:*Threads*'}
  cmake --build "$build" -j"$jobs" --target runtime_engine_test
  cd "$build"
  ctest --output-on-failure -j"$jobs" -R '^runtime_engine_test$' "$@"
else
  targets=()
  for t in ${LAYERKIT_SANITIZE_TARGETS:-}; do targets+=(--target "$t"); done
  cmake --build "$build" -j"$jobs" "${targets[@]}"
  cd "$build"
  ctest --output-on-failure -j"$jobs" "$@"
fi
