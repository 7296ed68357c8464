#!/usr/bin/env bash
# CUDA graphs for pipeline stages (pipeline-bench --cuda-graphs) on ONE GPU: step time and host
# time of bench_pipeline.sh's two small sizes with the stages eager and graphed, one rank, DualPipeV (its
# FB pairs run on the one GPU) and GPipe, ROUNDS rounds in turn (default 3); every graphed run with
# --check. Also records the whole model's GPU compute per step at each size (gpipe, one rank,
# trace-view's compute_ms of one profiled step): the floor a step on one GPU cannot go under.
# Builds pipeline-bench and trace-view (scripts/gpu/build.sh; needs .deps/).
# Usage: scripts/gpu/bench_graphs.sh [OUT_DIR]   (default: out/bench-graphs)
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-out/bench-graphs}
rounds=${ROUNDS:-3}
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
DUALPIPE_GPU_TESTS=OFF bash scripts/gpu/build.sh pipeline-bench trace-view | tail -n 1
mkdir -p "$out"
nvidia-smi --query-gpu=name --format=csv,noheader | tee "$out/device.txt"
bench=build/gpu/apps/pipeline-bench/pipeline-bench
# name hidden seq microbatch-size microbatches dtype
sizes=("small 512 256 3 20 float32" "medium 1024 512 2 20 bfloat16")
for size in "${sizes[@]}"; do
  read -r name h l m n dtype <<<"$size"
  flags=(--hidden "$h" --seq "$l" --microbatch-size "$m" --microbatches "$n" --dtype "$dtype"
         --device cuda)
  trace="$out/gpipe_${name}_one_gpu.json"
  torchrun --nproc-per-node 1 --no-python "$bench" --schedule gpipe "${flags[@]}" --steps 5 \
    --warmup 3 --profile "$trace" >/dev/null
  build/gpu/apps/trace-view/trace-view "$trace" --summary json | python3 -c \
    'import json,sys; t=json.load(sys.stdin)["traces"][0]; print(f"'"$name"': whole-model GPU compute per step {t["compute_ms"]:.2f} ms")' |
    tee -a "$out/summary.txt"
  for round in $(seq "$rounds"); do
    for schedule in dualpipev gpipe; do
      for graphs in off on; do
        check=()
        [[ $graphs == on ]] && check=(--check)
        line=$(torchrun --nproc-per-node 1 --no-python "$bench" --schedule "$schedule" "${flags[@]}" \
          --steps 30 --warmup 5 --cuda-graphs "$graphs" "${check[@]}" 2>/dev/null | grep '^{')
        echo "$name round $round $schedule graphs=$graphs $line" | tee -a "$out/summary.txt"
      done
    done
  done
done
