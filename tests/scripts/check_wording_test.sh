#!/usr/bin/env bash
# Test of scripts/check_wording.sh: every line of a file of organisational wording is reported as
# file:line, product text (including "issue" and "call" in their technical senses) is not, binary
# files are skipped, and the exit code is 1 with hits and 0 without.
#
#   tests/scripts/check_wording_test.sh PATH/TO/check_wording.sh
set -euo pipefail
check=$(realpath "$1")
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

cat >"$dir/flagged.md" <<'TEXT'
Measured in stop 16 on two GPUs.
Since stops 19 and 20 nothing changed.
The issue's three sizes.
Closes issue 7.
The whole issue is blocked on one run.
The session ended early.
No two-GPU machine was lent.
The machine was taken back before the run.
Run it on nvidia-h200-x2.
Budget: about 8 minutes of device time.
Copy the tree (carry .deps) first.
It ran in a one-GPU call.
Both ran in the same call.
See call 2 below.
Earlier calls gave 0.46.
Both targets are missed.
It meets both GPU targets.
Raw output in /work/gpu-results/run1.
TEXT

cat >"$dir/product.md" <<'TEXT'
The host issues the compute before the communication.
Actions are listed in issue order; issue kernels on the compute stream.
A known upstream bug (deepseek-ai/EPLB#22) puts two copies of an expert on one GPU.
Gloo carries CUDA tensors through host memory.
Marked in one call: each call replaces the previous marks.
The library call takes 1.10 ms; a function called twice.
Stop the timer after the step.
The allocator keeps a memory budget per stream.
TEXT

printf 'stop 16\0binary' >"$dir/data.bin"

fail() { echo "check_wording_test: $*" >&2; exit 1; }

status=0
output=$(bash "$check" "$dir" 2>/dev/null) || status=$?
[[ $status == 1 ]] || fail "expected exit code 1 with hits, got $status"
expected=$(wc -l <"$dir/flagged.md")
for ((line = 1; line <= expected; ++line)); do
  grep -q "^flagged.md:$line: " <<<"$output" || fail "flagged.md line $line not reported: $(sed -n "${line}p" "$dir/flagged.md")"
done
if grep "^product.md:" <<<"$output"; then fail "product text reported"; fi
if grep "^data.bin:" <<<"$output"; then fail "binary file searched"; fi

rm "$dir/flagged.md"
bash "$check" "$dir" >/dev/null || fail "expected exit code 0 without hits"
echo "check_wording_test: passed"
