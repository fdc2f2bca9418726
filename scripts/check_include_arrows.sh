#!/usr/bin/env bash
# Checks the include arrows between layerkit's components (Note [Component arrows] in
# CMakeLists.txt, drawn in docs/design.md): every `#include "..."` of a file of src/ or
# include/layerkit/ names a header of its own component or of one the component may use. Fails
# naming file:line of each include that crosses an arrow the other way.
# Usage: scripts/check_include_arrows.sh COMPONENT=DEP,DEP... [--plant FILE:HEADER]...
#   COMPONENT=DEPS  what COMPONENT may include (one argument per component; CMake passes its
#                   LAYERKIT_DEPS_<component> lists)
#   --plant F:H     checks as if F (relative to the source root) had one more line including H,
#                   to show that the check catches a bad include
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
declare -A allowed=()
plants=()
while [ $# -gt 0 ]; do
  case $1 in
    --plant) plants+=("$2"); shift 2 ;;
    *=*) allowed[${1%%=*}]=" ${1#*=} "; allowed[${1%%=*}]=${allowed[${1%%=*}]//,/ }; shift ;;
    *) echo "check_include_arrows: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
[ ${#allowed[@]} -gt 0 ] || { echo "check_include_arrows: no COMPONENT=DEPS given" >&2; exit 2; }

# Sets `comp` to the component of a file of the source tree: "umbrella" for src/*.cpp (which may
# use everything), empty for a file of no component. (Variables, not output: no subshells.)
component_of_file() {
  comp=""
  case $1 in
    src/runtime/cpu/*) comp=cpu ;;
    src/runtime/cuda/*) comp=cuda ;;
    src/runtime/* | include/layerkit/runtime/*) comp=runtime ;;
    src/*/*) comp=${1#src/}; comp=${comp%%/*} ;;
    include/layerkit/*/*) comp=${1#include/layerkit/}; comp=${comp%%/*} ;;
    src/*) comp=umbrella ;;
  esac
}

# Sets `comp` to the component of header $1 as `#include "..."` names it in file $2: a public
# header, a header under src/, or one beside the including file; empty for one outside the tree.
component_of_include() {
  comp=""
  if [[ $1 == layerkit/* ]]; then
    component_of_file "include/$1"
  elif [ -e "src/$1" ]; then
    component_of_file "src/$1"
  elif [ -e "${2%/*}/$1" ]; then
    component_of_file "${2%/*}/$1"
  fi
}

includes=$(grep -rnE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' src include/layerkit \
             --include='*.cpp' --include='*.h' --include='*.cu' --include='*.cuh' \
             --include='*.def' | sort)
for p in "${plants[@]+"${plants[@]}"}"; do
  f=${p%%:*}
  [ -f "$f" ] || { echo "check_include_arrows: --plant: no file $f" >&2; exit 2; }
  includes+=$'\n'"$f:$(($(wc -l <"$f") + 1)):#include \"${p#*:}\""
done

status=0
checked=0
while IFS= read -r entry; do
  [ -n "$entry" ] || continue
  file=${entry%%:*}
  rest=${entry#*:}
  line=${rest%%:*}
  [[ ${rest#*:} =~ \"([^\"]*)\" ]] || continue
  header=${BASH_REMATCH[1]}
  component_of_file "$file"
  from=$comp
  component_of_include "$header" "$file"
  to=$comp
  checked=$((checked + 1))
  [ -n "$from" ] && [ -n "$to" ] && [ "$from" != "$to" ] && [ "$from" != umbrella ] || continue
  if [ -z "${allowed[$from]+x}" ]; then
    echo "$file:$line: component '$from' has no arrows given (add $from=DEPS)"
    status=1
  elif [[ ${allowed[$from]} != *" $to "* ]]; then
    echo "$file:$line: $from includes \"$header\" of $to, which $from may not use" \
         "($from may use:${allowed[$from]% })"
    status=1
  fi
done <<<"$includes"

if [ $status = 0 ]; then
  echo "include arrows: $checked includes checked, every one follows the arrows"
else
  echo "INCLUDE ARROWS BROKEN (Note [Component arrows] in CMakeLists.txt)"
fi
exit $status
