#!/usr/bin/env bash
# Checks that every library, header folder, program and package config a configured build found
# comes from a Debian package that the set-up installs: one named in scripts/packages.sh, or one
# those pull in through Depends (recursively). A dependency present only by luck on one machine
# (a package some other software installed) fails here, naming the package to add. Paths no
# Debian package owns (the preinstalled CUDA toolkit) are reported, not failed.
# Usage: scripts/check_packages.sh [BUILD_DIR] [--drop PKG]...
#   --drop PKG  leaves PKG out of the set-up lists (to show the check catches a missing package)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build
drop=()
while [ $# -gt 0 ]; do
  case $1 in
    --drop) drop+=("$2"); shift 2 ;;
    *) build=$1; shift ;;
  esac
done
cache=$build/CMakeCache.txt
[ -f "$cache" ] || { echo "check_packages: no $cache (configure first)"; exit 2; }
source "$root/scripts/packages.sh"
listed=()
for p in "${layerkit_build_packages[@]}" "${layerkit_test_packages[@]}" "${layerkit_bench_packages[@]}"; do
  skip=0
  for d in "${drop[@]+"${drop[@]}"}"; do [ "$p" = "$d" ] && skip=1; done
  [ $skip = 0 ] && listed+=("$p")
done
# The closure of the listed packages under Depends and Pre-Depends (virtual names included).
allowed=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
            --no-replaces --no-enhances "${listed[@]}" 2>/dev/null |
          sed -n 's/^ *\(Pre\)\{0,1\}Depends: *<\{0,1\}\([^ >:]*\).*/\2/p; s/^\([^ ][^ :]*\).*/\1/p' |
          sort -u)
# Essential and required packages are on every Debian system.
allowed="$allowed
$(dpkg-query -W -f='${Package} ${Essential} ${Priority}\n' | awk '$2 == "yes" || $3 == "required" {print $1}')"
status=0
checked=0
# Entries naming what find_package / find_library / find_path / find_program found.
while IFS= read -r line; do
  key=${line%%:*}
  value=${line#*=}
  for path in ${value//;/ }; do
    [ -e "$path" ] || continue
    # A folder many packages share (/usr/include) says nothing about one dependency.
    if [ -d "$path" ]; then
      owners=$(dpkg-query -S "$path" 2>/dev/null | head -1 | sed 's/: .*//' || true)
      case $key in *_DIR) ;; *) [ "$(echo "$owners" | tr ',' '\n' | wc -l)" -gt 1 ] && continue ;; esac
    fi
    real=$(readlink -f "$path")
    owner=$(dpkg-query -S "$path" 2>/dev/null | head -1 | sed 's/: .*//' || true)
    [ -z "$owner" ] && owner=$(dpkg-query -S "$real" 2>/dev/null | head -1 | sed 's/: .*//' || true)
    if [ -z "$owner" ]; then
      echo "not from a Debian package (not checked): $key = $path"
      continue
    fi
    checked=$((checked + 1))
    ok=0
    for pkg in ${owner//,/ }; do
      pkg=${pkg%%:*}
      grep -qx "$pkg" <<<"$allowed" && ok=1
    done
    if [ $ok = 0 ]; then
      echo "MISSING FROM SET-UP: $key = $path belongs to Debian package '${owner%%:*}', which" \
           "neither scripts/packages.sh nor the Depends of a package it lists brings"
      status=1
    fi
  done
done < <(grep -E '^[A-Za-z0-9_]+(_LIBRARY|_LIBRARIES|_LIBRARY_RELEASE|_INCLUDE_DIR|_INCLUDE_DIRS|_HEADER_DIR|_DIR|_EXECUTABLE|_COMPILER|_lib_[A-Za-z0-9_]+):[A-Z]+=' "$cache" |
         grep -v -E '^(CMAKE_|layerkit_|LAYERKIT_BINARY|LAYERKIT_SOURCE)' | grep -v NOTFOUND)
echo "check_packages: $checked paths checked against ${#listed[@]} listed packages and their Depends"
exit $status
