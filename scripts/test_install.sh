#!/usr/bin/env bash
# Installs the build tree BUILD_DIR into a temporary prefix, then configures, builds and runs the
# examples/ project against that prefix alone (find_package(layerkit), no path into the source
# or build tree), and checks layerkit.pc with pkg-config. Usage: test_install.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/layerkit-install.XXXXXX")
trap 'rm -rf "$work"' EXIT
prefix="$work/prefix"

echo "== cmake --install $build --prefix $prefix"
cmake --install "$build" --prefix "$prefix" >"$work/install.log" || { cat "$work/install.log"; exit 1; }
for f in include/layerkit/impl/context.h lib/liblayerkit.a lib/liblayerkit_onnx.a \
         lib/cmake/layerkit/layerkitConfig.cmake lib/cmake/layerkit/layerkitConfigVersion.cmake \
         lib/cmake/layerkit/layerkitTargets.cmake lib/pkgconfig/layerkit.pc; do
  [[ -f "$prefix/$f" ]] || { echo "missing from the install: $f"; exit 1; }
done

# The example sees the installed prefix only: a copy of examples/ outside the source tree.
cp -r "$src/examples" "$work/examples"
echo "== configure examples against $prefix"
cmake -S "$work/examples" -B "$work/build" -DCMAKE_PREFIX_PATH="$prefix" \
      -DCMAKE_BUILD_TYPE=Release -DCMAKE_FIND_PACKAGE_PREFER_CONFIG=ON >"$work/configure.log" \
  || { cat "$work/configure.log"; exit 1; }
grep -q "layerkit_DIR:PATH=$prefix/lib/cmake/layerkit" "$work/build/CMakeCache.txt" \
  || { echo "find_package(layerkit) did not use the installed package"; exit 1; }
echo "== build"
cmake --build "$work/build" -j2 >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }

echo "== run"
"$work/build/converter"
"$work/build/onnx_inspect" "$src/models/default_cnn.onnx"

if command -v pkg-config >/dev/null; then
  echo "== pkg-config: build and run the converter example from layerkit.pc"
  export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
  pkg-config --modversion layerkit
  # shellcheck disable=SC2046
  c++ -std=c++20 -O1 "$work/examples/converter.cpp" -o "$work/converter_pc" \
      $(pkg-config --static --cflags --libs layerkit)
  "$work/converter_pc" | tail -1
fi
echo "install and consume: OK"
