#!/usr/bin/env bash
# What CI runs: checks the repository's wording (scripts/check_wording.sh), installs dependencies,
# builds Debug with -Wall -Wextra -Werror, checks the enum naming (scripts/check_enum_names.sh) and
# runs every test;
# then builds the libraries that do not need LibTorch under AddressSanitizer + UndefinedBehavior-
# Sanitizer and runs their tests (and the fuzz corpus replays); then clang-tidy on changed files.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== wording"
bash scripts/check_wording.sh

bash scripts/deps.sh
jobs=$(nproc)
export CTEST_OUTPUT_ON_FAILURE=1

echo "== Debug build (-Werror), all tests"
cmake -S . -B build/debug -G Ninja -DCMAKE_BUILD_TYPE=Debug -DDUALPIPE_WARNINGS_AS_ERRORS=ON >/dev/null
cmake --build build/debug -j "$jobs"
bash scripts/check_enum_names.sh build/debug
ctest --test-dir build/debug --output-on-failure -j "$jobs"

echo "== ASan + UBSan build without LibTorch"
cmake -S . -B build/asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DDUALPIPE_WITH_TORCH=OFF \
  -DDUALPIPE_SANITIZE=address,undefined -DDUALPIPE_BUILD_BENCHMARKS=OFF \
  -DDUALPIPE_BUILD_EXAMPLES=OFF -DDUALPIPE_WARNINGS_AS_ERRORS=ON >/dev/null
cmake --build build/asan -j "$jobs"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build/asan --output-on-failure -j "$jobs" -LE packaging

echo "== clang-tidy on changed files (warnings only)"
bash scripts/tidy.sh build/debug || true
echo "test.sh: all tests passed"
