#!/usr/bin/env bash
# Training on ONE GPU with the toolkit's Trainer: the MoE language model (train_moe_lm).
#  1. one rank (pp 1) at a size that fills most of the GPU: tokens/s and model FLOPs utilization
#     of the toolkit's training step against the same model in a plain LibTorch loop (--plain),
#     recomputation off and on;
#  2. ZeRO-1: two ranks sharing the GPU over Gloo, pp 1 x dp 2, peak memory per rank with the
#     optimizer state sharded and not (ZeRO-1 shards over data-parallel ranks: dp >= 2), the
#     experts split over the two ranks (ep 2: only the other parameters have a copy to shard
#     with) and replicated on both (ep 1);
#  3. recomputation: two ranks sharing the GPU over Gloo as a DualPipe pipeline (pp 2), peak memory
#     per rank with and without (at pp 1 one micro-batch is in flight, so recomputation has nothing
#     to save there; a pipeline holds several);
#  4. pipeline-bench's training mode with --check on 4 ranks sharing the GPU.
# Builds with scripts/gpu/build.sh (needs .deps/, docs/performance.md "Building for the GPU
# measurements"). Writes every output to OUT_DIR and a summary to OUT_DIR/summary.txt.
# Usage: scripts/gpu/bench_training.sh [OUT_DIR]   (default: $OUT, else out/bench-training)
# RUN_LIMIT_S: seconds any one run may take (default 600); LM_STEPS: steps of the one-rank runs
# (default 12, even); LM_LAYERS, LM_ROWS: section 1's layers and rows per micro-batch;
# SECTIONS: the sections to run (default "1 2 3 4"); ZERO_EP: section 2's expert-parallel degrees
# (default "2 1").
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-${OUT:-out/bench-training}}
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
DUALPIPE_GPU_TESTS=${DUALPIPE_GPU_TESTS:-OFF} bash scripts/gpu/build.sh train_moe_lm pipeline-bench | tail -n 1
set +e  # a run that fails leaves its log and the next runs still go
mkdir -p "$out"
limit=${RUN_LIMIT_S:-600}  # seconds any one run may take
steps=${LM_STEPS:-12}      # steps of each one-rank run (even: the log shows every second step)
nvidia-smi --query-gpu=name --format=csv,noheader | tee "$out/device.txt"
git rev-parse --short HEAD > "$out/commit.txt" 2>/dev/null || true
lm=build/gpu/examples/train_moe_lm
peak=${PEAK_TFLOPS:-989}  # H100 SXM dense bf16
# hidden 2048, 32 experts of width 1024 (top-4 of 4 groups choosing 2), sequences of 1024 bytes.
shape=(--hidden 2048 --heads 16 --dense-layers 1 --dense-ffn-hidden 8192 --experts 32 --topk 4
       --groups 4 --top-groups 2 --expert-hidden 1024 --shared-hidden 2048 --seq 1024
       --microbatches 8 --dtype bfloat16 --device cuda --sample-bytes 0 --log-every 2)
# Section 1: 12 layers (2.68 B parameters), 8 x 12 sequences a step: 54 GB at the peak.
one_rank=(--layers "${LM_LAYERS:-12}" --microbatch-size "${LM_ROWS:-12}" --peak-tflops "$peak")
# Sections 2 and 3: 8 layers (1.73 B parameters), 25-40 GB for each of the two ranks.
two_ranks=(--layers 8)

summary() { tee -a "$out/summary.txt"; }
wanted() { [[ " ${SECTIONS:-1 2 3 4} " == *" $1 "* ]]; }
# The mean tokens/s and MFU of the logged intervals but the first (warm-up).
steady() {
  grep '^step' "$1" | sed '1d' | awk '{ for (i = 1; i < NF; ++i) {
      if ($i == "tokens_per_s") t += $(i + 1); if ($i == "mfu") m += $(i + 1) } ++n }
    END { if (n) printf "tokens_per_s %.0f mfu %.3f (mean of %d intervals)", t / n, m / n, n }'
}
memory() { grep '^memory' "$1" | tr '\n' ' '; }
launch() {  # launch RANKS NAME FLAGS...: train_moe_lm on RANKS processes, log in OUT_DIR/NAME.txt
  local ranks=$1 name=$2
  shift 2
  timeout "$limit" torchrun --nproc-per-node "$ranks" --no-python "$lm" --out "$out/$name" "$@" \
    > "$out/$name.txt" 2>&1
}

if wanted 1; then
  echo "== 1. one rank: toolkit against a plain LibTorch loop" | summary
  timeout "$limit" "$lm" --plain --steps "$steps" "${shape[@]}" "${one_rank[@]}" 2>&1 | grep '^plain' | summary
  for recompute in off on; do
    launch 1 "pp1-recompute-$recompute" --pp 1 --dp 1 --ep 1 --schedule 1f1b --steps "$steps" \
      --recompute "$recompute" "${shape[@]}" "${one_rank[@]}"
    echo "recompute $recompute: $(steady "$out/pp1-recompute-$recompute.txt") | $(memory "$out/pp1-recompute-$recompute.txt")" | summary
  done
fi

if wanted 2; then
  echo "== 2. ZeRO-1: two ranks sharing the GPU over Gloo, pp 1 x dp 2" | summary
  for ep in ${ZERO_EP:-2 1}; do  # experts split over the two ranks (2) or on both (1)
    for zero in off on; do
      launch 2 "dp2-ep$ep-zero-$zero" --pp 1 --dp 2 --ep "$ep" --schedule 1f1b --steps 4 \
        --comm-backend gloo --zero "$zero" --recompute off --microbatch-size 8 "${shape[@]}" \
        "${two_ranks[@]}"
      echo "ep $ep, zero $zero: $(memory "$out/dp2-ep$ep-zero-$zero.txt")" | summary
    done
  done
fi

if wanted 3; then
  echo "== 3. recomputation: two ranks sharing the GPU over Gloo, DualPipe pp 2" | summary
  for recompute in off on; do
    launch 2 "pp2-recompute-$recompute" --pp 2 --dp 1 --ep 1 --schedule dualpipe --steps 4 \
      --comm-backend gloo --zero off --recompute "$recompute" --microbatch-size 2 \
      "${shape[@]}" "${two_ranks[@]}"
    echo "recompute $recompute: $(grep '^step 4 ' "$out/pp2-recompute-$recompute.txt") | $(memory "$out/pp2-recompute-$recompute.txt")" | summary
  done
fi

if wanted 4; then
  echo "== 4. pipeline-bench training --check, pp 2 x dp 2 on 4 ranks sharing the GPU" | summary
  timeout "$limit" torchrun --nproc-per-node 4 --no-python build/gpu/apps/pipeline-bench/pipeline-bench \
    --device cuda --comm-backend gloo --dp 2 --zero on --recompute on --clip-norm 1 \
    --schedule dualpipe --hidden 512 --seq 128 --microbatches 8 --dtype float64 --steps 3 --warmup 1 \
    --check 2>&1 | grep '^{' | summary
fi
