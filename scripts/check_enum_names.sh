#!/usr/bin/env bash
# Checks the one naming convention of enum constants across the libraries and tools: kCamelCase
# (`Policy::kBalanced`, `Op::kF`), the rule .clang-tidy states (readability-identifier-naming's
# EnumConstant and ScopedEnumConstant options). Runs clang-tidy with that rule alone, as an error,
# on every source that declares an enum (a header through the source file of the same name).
#   scripts/check_enum_names.sh [BUILD_DIR]   (default build/debug; needs its compile_commands.json)
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${1:-build/debug}
command -v clang-tidy >/dev/null || { echo "check_enum_names.sh: clang-tidy not installed" >&2; exit 1; }

declare -A units
while IFS= read -r file; do
  case "$file" in
    include/dualpipe/*.h) unit="src/${file#include/dualpipe/}"; unit="${unit%.h}.cc" ;;
    *.h) unit="${file%.h}.cc" ;;
    *) unit="$file" ;;
  esac
  # Only sources this build compiles (the LibTorch ones are absent from a build without it).
  if [[ -f "$unit" ]] && grep -q "\"file\": \"[^\"]*/$unit\"" "$build_dir/compile_commands.json"; then
    units["$unit"]=1
  fi
done < <(git grep -l -E '^\s*enum( class)? \w+' -- 'include/*.h' 'src/*.h' 'src/*.cc' 'apps/*.h' 'apps/*.cc')

config="{Checks: '-*,readability-identifier-naming', WarningsAsErrors: '*',
  HeaderFilterRegex: '.*/(include/dualpipe|src|apps)/.*',
  CheckOptions: [{key: readability-identifier-naming.EnumConstantCase, value: CamelCase},
                 {key: readability-identifier-naming.EnumConstantPrefix, value: k},
                 {key: readability-identifier-naming.ScopedEnumConstantCase, value: CamelCase},
                 {key: readability-identifier-naming.ScopedEnumConstantPrefix, value: k}]}"
if clang-tidy -p "$build_dir" --quiet --config="$config" "${!units[@]}" 2>/dev/null; then
  echo "check_enum_names.sh: enum constants are kCamelCase in ${#units[@]} files"
else
  echo "check_enum_names.sh: enum constants must be kCamelCase (see above)" >&2
  exit 1
fi
