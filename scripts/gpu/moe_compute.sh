#!/usr/bin/env bash
# GPU compute of one MoE forward-then-backward pair on ONE GPU: the per-rank work of bench_moe.sh's
# hidden 1024 / width 128 size, run by a single process (its all-to-all is then a local copy).
# Builds moe-bench and trace-view (scripts/gpu/build.sh; needs .deps/), runs the sequential pair
# twice with a trace of one pair each, and prints moe-bench's line and trace-view's GPU compute and
# communication time. Kernel time repeats to within 0.2% from run to run where wall time does
# not, so this compares code versions without two GPUs.
# Usage: scripts/gpu/moe_compute.sh [OUT_DIR]   (default: profiles/moe-compute)
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-profiles/moe-compute}
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
DUALPIPE_GPU_TESTS=OFF bash scripts/gpu/build.sh moe-bench trace-view | tail -n 1
mkdir -p "$out"
nvidia-smi --query-gpu=name --format=csv,noheader
for run in 1 2; do
  trace="$out/moe_seq_one_gpu_$run.json"
  torchrun --nproc-per-node 1 --no-python build/gpu/apps/moe-bench/moe-bench --device cuda \
    --dtype bfloat16 --layers 4 --experts 16 --topk 8 --seq 1024 --hidden 1024 --ffn-hidden 128 \
    --tokens 32768 --heads 16 --steps 10 --warmup 3 --overlap off --profile-sequential "$trace" \
    2>&1 | grep '^{'
  build/gpu/apps/trace-view/trace-view "$trace" --summary json |
    python3 -c 'import json,sys; t=json.load(sys.stdin)["traces"][0]; print(f"run '"$run"': GPU compute {t["compute_ms"]:.2f} ms, communication {t["comm_ms"]:.2f} ms")'
done
