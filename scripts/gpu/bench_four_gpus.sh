#!/usr/bin/env bash
# The MoE language model on FOUR GPUs of one host (NCCL): pipeline 2 x data 2 with experts over the
# 2 data-parallel ranks. DualPipe with the MoE overlap engine against 1F1B on the same mesh and
# against DualPipe without the overlap engine: step time (median of the last steps, three
# launches in turn), tokens/s and model FLOPs utilization; one profiled step per rank of each,
# gzipped, with trace-view's attribution, critical path and a drawing; the gradient reduction
# under compute or exposed, and the all-to-all hidden in the overlapped pairs.
# With GPUS=1 the same runs go through one GPU, ranks sharing it over Gloo (a dry run of the
# script). Builds with scripts/gpu/build.sh (needs .deps/).
# Usage: scripts/gpu/bench_four_gpus.sh [OUT_DIR]   (default: $OUT, else out/bench-four-gpus)
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-${OUT:-out/bench-four-gpus}}
rounds=${ROUNDS:-3}
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
DUALPIPE_GPU_TESTS=OFF bash scripts/gpu/build.sh train_moe_lm trace-view | tail -n 1
mkdir -p "$out"
nvidia-smi --query-gpu=name --format=csv,noheader | tee "$out/device.txt"
git rev-parse --short HEAD > "$out/commit.txt" 2>/dev/null || true
lm=build/gpu/examples/train_moe_lm
view=build/gpu/apps/trace-view/trace-view
backend=()
[[ ${GPUS:-4} == 1 ]] && backend=(--comm-backend gloo)
steps=${STEPS:-30}
# A step of roughly 100 ms or more on H100s.
model=(--hidden 2048 --heads 16 --layers 8 --dense-layers 1 --dense-ffn-hidden 8192
       --experts 32 --topk 4 --groups 4 --top-groups 2 --expert-hidden 1024 --shared-hidden 2048
       --seq 1024 --microbatches 8 --microbatch-size 4 --dtype bfloat16 --device cuda
       --peak-tflops "${PEAK_TFLOPS:-989}" --sample-bytes 0 --log-every 10 --zero on
       --steps "$steps" "${backend[@]}")
variants=("dualpipe-overlap --schedule dualpipe --overlap on"
          "1f1b --schedule 1f1b --overlap on"
          "dualpipe-no-overlap --schedule dualpipe --overlap off")
for round in $(seq "$rounds"); do
  for variant in "${variants[@]}"; do
    read -r name flags <<<"$variant"
    # shellcheck disable=SC2086
    torchrun --nproc-per-node 4 --no-python "$lm" --pp 2 --dp 2 --ep 2 $flags "${model[@]}" \
      --out "$out/$name" > "$out/$name-round$round.txt" 2>&1
    echo "round $round $name: $(grep '^timing' "$out/$name-round$round.txt") | $(grep "^step $steps " "$out/$name-round$round.txt")" |
      tee -a "$out/summary.txt"
  done
done
for variant in "${variants[@]}"; do
  read -r name _ <<<"$variant"
  for rank in 0 1 2 3; do gzip -9 -c "$out/$name/trace.rank$rank.json" > "$out/${name}_rank$rank.json.gz"; done
  "$view" "$out/${name}"_rank*.json.gz --summary text -o "$out/$name.trace-summary.txt" \
    --svg "$out/$name.svg" --perfetto "$out/$name.perfetto.json"
  cat "$out/$name.trace-summary.txt"
done
