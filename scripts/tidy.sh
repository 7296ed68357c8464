#!/usr/bin/env bash
# Runs clang-tidy (config: .clang-tidy) on the C++ sources changed by the last commit, or on the
# files given. Reports warnings; exits non-zero only when clang-tidy itself cannot run.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${1:-build/debug}
shift || true
files=("$@")
if [[ ${#files[@]} -eq 0 ]]; then
  base=$(git rev-parse --verify -q HEAD~1 || true)
  if [[ -n "$base" ]]; then
    mapfile -t files < <(git diff --name-only --diff-filter=AM "$base" -- 'src/*.cc' 'apps/*.cc' \
                           'src/**/*.cc' 'apps/**/*.cc')
  fi
fi
if [[ ${#files[@]} -eq 0 ]]; then
  echo "tidy.sh: no changed sources"
  exit 0
fi
command -v clang-tidy >/dev/null || { echo "tidy.sh: clang-tidy not installed"; exit 1; }
clang-tidy -p "$build_dir" --quiet "${files[@]}" 2>/dev/null
