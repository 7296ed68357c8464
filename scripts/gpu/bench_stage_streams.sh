#!/usr/bin/env bash
# Stage streams (pipeline-bench --stage-streams) on ONE GPU: DualPipeV on one rank runs both of
# its stages and every FB pair on the one GPU, so the pair's forward (one stage) and backward
# (the other) can share it. Step time with the stages on one stream (off) and on a stream each
# (on), eager and graphed, at bench_pipeline.sh's three sizes, ROUNDS rounds in turn (default 3; the
# largest size once, eager only: its host work is hidden already); every "on" run with --check.
# Builds pipeline-bench (scripts/gpu/build.sh; needs .deps/).
# Usage: scripts/gpu/bench_stage_streams.sh [OUT_DIR]   (default: out/bench-stage-streams)
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-out/bench-stage-streams}
rounds=${ROUNDS:-3}
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
DUALPIPE_GPU_TESTS=OFF bash scripts/gpu/build.sh pipeline-bench | tail -n 1
mkdir -p "$out"
nvidia-smi --query-gpu=name --format=csv,noheader | tee "$out/device.txt"
bench=build/gpu/apps/pipeline-bench/pipeline-bench

run() {  # run NAME ROUND GRAPHS STREAMS STEPS FLAGS...
  local name=$1 round=$2 graphs=$3 streams=$4 steps=$5
  shift 5
  local check=()
  [[ $streams == on ]] && check=(--check)
  line=$(torchrun --nproc-per-node 1 --no-python "$bench" --schedule dualpipev "$@" \
    --device cuda --steps "$steps" --warmup 5 --cuda-graphs "$graphs" --stage-streams "$streams" \
    "${check[@]}" 2>/dev/null | grep '^{' || echo FAILED)
  echo "$name round $round graphs=$graphs streams=$streams $line" | tee -a "$out/summary.txt"
}

# name hidden seq microbatch-size microbatches dtype
for size in "small 512 256 3 20 float32" "medium 1024 512 2 20 bfloat16"; do
  read -r name h l m n dtype <<<"$size"
  for round in $(seq "$rounds"); do
    for graphs in off on; do
      for streams in off on; do
        run "$name" "$round" "$graphs" "$streams" 30 --hidden "$h" --seq "$l" \
          --microbatch-size "$m" --microbatches "$n" --dtype "$dtype"
      done
    done
  done
done
for streams in off on; do
  run large 1 off "$streams" 10 --hidden 4096 --seq 1024 --microbatch-size 2 --microbatches 20 \
    --dtype bfloat16
done
