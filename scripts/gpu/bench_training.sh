#!/usr/bin/env bash
# Training on ONE GPU with the toolkit's Trainer: the MoE language model (train_moe_lm) at a size
# that fills much of the GPU.
#  1. one rank (pp 1): tokens/s and model FLOPs utilization of the toolkit's training step against
#     the same model in a plain LibTorch loop (--plain), recomputation off and on;
#  2. two ranks sharing the GPU over Gloo (pp 1 x dp 2, experts over both): peak memory per rank
#     with and without ZeRO-1 and recomputation (each rank's own allocator counters);
#  3. two ranks sharing the GPU over Gloo as a DualPipe pipeline (pp 2): the mechanism, and
#     pipeline-bench's training mode with --check.
# Builds with scripts/gpu/build.sh (needs .deps/, docs/performance.md "Building for the GPU
# measurements"). Writes every output to OUT_DIR and a summary to OUT_DIR/summary.txt.
# Usage: scripts/gpu/bench_training.sh [OUT_DIR]   (default: $OUT, else out/bench-training)
# RUN_LIMIT_S: seconds any one run may take (default 600); LM_STEPS: steps of the one-rank runs
# (default 10, even).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-${OUT:-out/bench-training}}
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
DUALPIPE_GPU_TESTS=${DUALPIPE_GPU_TESTS:-OFF} bash scripts/gpu/build.sh train_moe_lm pipeline-bench | tail -n 1
set +e  # a run that fails leaves its log and the next runs still go
mkdir -p "$out"
limit=${RUN_LIMIT_S:-600}  # seconds any one run may take
steps=${LM_STEPS:-10}      # steps of each one-rank run (even: the log shows every second step)
nvidia-smi --query-gpu=name --format=csv,noheader | tee "$out/device.txt"
git rev-parse --short HEAD > "$out/commit.txt" 2>/dev/null || true
lm=build/gpu/examples/train_moe_lm
peak=${PEAK_TFLOPS:-989}  # H100 SXM dense bf16
# About 1.7 B parameters (32 experts of width 1024, top-4), 8 x 8 sequences of 1024 bytes a step.
model=(--hidden 2048 --heads 16 --layers 8 --dense-layers 1 --dense-ffn-hidden 8192
       --experts 32 --topk 4 --groups 4 --top-groups 2 --expert-hidden 1024 --shared-hidden 2048
       --seq 1024 --microbatches 8 --microbatch-size 8 --dtype bfloat16 --device cuda
       --peak-tflops "$peak" --sample-bytes 0 --log-every 2)

# Sections 2 and 3 move gradients and tokens through the host (Gloo): a model of about 0.2 B.
small=(--hidden 1024 --heads 8 --layers 4 --dense-layers 1 --dense-ffn-hidden 4096
       --experts 16 --topk 4 --groups 4 --top-groups 2 --expert-hidden 512 --shared-hidden 1024
       --seq 1024 --microbatches 8 --microbatch-size 4 --dtype bfloat16 --device cuda
       --sample-bytes 0 --log-every 2)

summary() { tee -a "$out/summary.txt"; }

echo "== 1. one rank: toolkit against a plain LibTorch loop" | summary
timeout "$limit" "$lm" --plain --steps "$steps" "${model[@]}" 2>&1 | grep '^plain' | summary
for recompute in off on; do
  timeout "$limit" torchrun --nproc-per-node 1 --no-python "$lm" --pp 1 --dp 1 --ep 1 --schedule 1f1b --steps "$steps" \
    --recompute "$recompute" --out "$out/pp1-recompute-$recompute" "${model[@]}" \
    > "$out/pp1-recompute-$recompute.txt" 2>&1
  echo "recompute $recompute: $(grep "^step $steps " "$out/pp1-recompute-$recompute.txt") | $(grep '^memory' "$out/pp1-recompute-$recompute.txt")" | summary
done

echo "== 2. two ranks sharing the GPU over Gloo, pp 1 x dp 2 x ep 2: memory per rank" | summary
for zero in off on; do
  for recompute in off on; do
    name="dp2-zero-$zero-recompute-$recompute"
    timeout "$limit" torchrun --nproc-per-node 2 --no-python "$lm" --pp 1 --dp 2 --ep 2 --schedule 1f1b --steps 4 \
      --comm-backend gloo --zero "$zero" --recompute "$recompute" --out "$out/$name" \
      "${small[@]}" > "$out/$name.txt" 2>&1
    echo "zero $zero recompute $recompute: $(grep '^memory' "$out/$name.txt")" | summary
  done
done

echo "== 3. two ranks sharing the GPU over Gloo, DualPipe pp 2" | summary
timeout "$limit" torchrun --nproc-per-node 2 --no-python "$lm" --pp 2 --dp 1 --ep 1 --schedule dualpipe --steps 4 \
  --comm-backend gloo --zero on --recompute on --out "$out/dualpipe-pp2" "${small[@]}" \
  > "$out/dualpipe-pp2.txt" 2>&1
grep '^step 4 \|^memory' "$out/dualpipe-pp2.txt" | summary
timeout "$limit" torchrun --nproc-per-node 4 --no-python build/gpu/apps/pipeline-bench/pipeline-bench \
  --device cuda --comm-backend gloo --dp 2 --zero on --recompute on --clip-norm 1 \
  --schedule dualpipe --hidden 512 --seq 128 --microbatches 8 --dtype float64 --steps 3 --warmup 1 \
  --check 2>&1 | grep '^{' | summary
