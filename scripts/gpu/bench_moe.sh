#!/usr/bin/env bash
# MoE all-to-all hidden under compute, on one machine with two NVLink-linked GPUs (NCCL):
#   1. builds Release against the PyTorch wheel's LibTorch (scripts/gpu/build.sh; carry .deps/),
#   2. runs moe-bench (torchrun, 2 processes) at sizes where the all-to-all and the compute of a
#      layer take similar time, with --check (overlapped vs sequential gradients) and --profile,
#      printing each pair's times (overlapped, forward-then-backward, ratio),
#   3. runs trace-view on each trace (overlap of communication with compute, SVG picture),
#   4. runs the EPLB-in-the-loop example (tokens per GPU and step time before/after re-planning).
# Usage: scripts/gpu/bench_moe.sh [OUT_DIR]   (default: profiles/moe; traces, SVGs, JSON lines)
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-profiles/moe}
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
DUALPIPE_GPU_TESTS=OFF bash scripts/gpu/build.sh moe-bench trace-view moe_eplb_loop
mkdir -p "$out"
bench=build/gpu/apps/moe-bench/moe-bench
view=build/gpu/apps/trace-view/trace-view
nvidia-smi --query-gpu=index,name,memory.total --format=csv,noheader

# name | flags. Per layer and micro-batch each rank sends tokens*topk rows of hidden bf16 values
# each way twice (dispatch, combine); half stay on the GPU. The expert MLPs and attention set the
# compute; ffn-hidden moves the balance between the two.
configs=(
  "h4096_f1024|--hidden 4096 --ffn-hidden 1024 --experts 16 --topk 4 --tokens 4096 --seq 512 --heads 32"
  "h4096_f2048|--hidden 4096 --ffn-hidden 2048 --experts 16 --topk 4 --tokens 4096 --seq 512 --heads 32"
  "h2048_f1024|--hidden 2048 --ffn-hidden 1024 --experts 32 --topk 8 --tokens 8192 --seq 1024 --heads 16"
)
for config in "${configs[@]}"; do
  name=${config%%|*}
  flags=${config#*|}
  echo "== moe-bench $name: $flags"
  # shellcheck disable=SC2086
  torchrun --nproc-per-node 2 --no-python "$bench" --device cuda --dtype bfloat16 --layers 2 $flags \
    --steps 20 --warmup 5 --check --profile "$out/moe_pair_$name.json" \
    --record-loads "$out/moe_loads_$name.json" | tee "$out/moe_bench_$name.jsonl"
  echo "== trace-view $name (rank 0)"
  "$view" "$out/moe_pair_$name.json" --summary text --svg "$out/moe_pair_$name.svg" | tee "$out/moe_overlap_$name.txt"
done

echo "== sequential-only run (--overlap off) for the first size, as a baseline trace"
first_flags=${configs[0]#*|}
# shellcheck disable=SC2086
torchrun --nproc-per-node 2 --no-python "$bench" --device cuda --dtype bfloat16 --layers 2 $first_flags \
  --steps 20 --warmup 5 --overlap off --profile "$out/moe_sequential.json" | tee "$out/moe_bench_sequential.jsonl"
"$view" "$out/moe_sequential.json" --summary text --svg "$out/moe_sequential.svg" | tee "$out/moe_overlap_sequential.txt"

echo "== EPLB in the loop (skewed router, plan, move experts, train on)"
torchrun --nproc-per-node 2 --no-python build/gpu/examples/moe_eplb_loop --device cuda --steps 300 \
  --tokens 4096 --hidden 1024 | tee "$out/moe_eplb_loop.txt"
