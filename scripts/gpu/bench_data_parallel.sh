#!/usr/bin/env bash
# Data parallelism on FOUR GPUs of one host (NCCL): DualPipe pp 2 x dp 2 through pipeline-bench's
# training mode (Trainer: gradient reduction started per stage when its last gradient exists,
# ZeRO-1 on and off), step time, and from one profiled step per rank how much of the gradient
# reduction (NCCL AllReduce / ReduceScatter kernels) ran under compute kernels and how much was
# exposed. Builds with scripts/gpu/build.sh (needs .deps/).
# Usage: scripts/gpu/bench_data_parallel.sh [OUT_DIR]   (default: $OUT, else out/bench-data-parallel)
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-${OUT:-out/bench-data-parallel}}
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
DUALPIPE_GPU_TESTS=OFF bash scripts/gpu/build.sh pipeline-bench trace-view | tail -n 1
mkdir -p "$out"
nvidia-smi --query-gpu=name --format=csv,noheader | tee "$out/device.txt"
git rev-parse --short HEAD > "$out/commit.txt" 2>/dev/null || true
bench=build/gpu/apps/pipeline-bench/pipeline-bench
size=(--hidden 4096 --seq 1024 --microbatch-size 2 --microbatches 16 --blocks 8 --dtype bfloat16
      --device cuda --schedule dualpipe --dp 2 --clip-norm 1 --steps 20 --warmup 5)
for zero in off on; do
  torchrun --nproc-per-node 4 --no-python "$bench" "${size[@]}" --zero "$zero" \
    --profile "$out/dp2-zero-$zero.json" | tee "$out/dp2-zero-$zero.bench.json"
  python3 - "$out" "dp2-zero-$zero" <<'PY' | tee -a "$out/summary.txt"
import json, sys, pathlib
out, name = pathlib.Path(sys.argv[1]), sys.argv[2]
for rank in range(4):
    path = out / (f"{name}.json" if rank == 0 else f"{name}.rank{rank}.json")
    events = [e for e in json.load(open(path))["traceEvents"]
              if e.get("ph") == "X" and e.get("cat") == "kernel"]
    reduce = [(e["ts"], e["ts"] + e["dur"]) for e in events
              if "AllReduce" in e["name"] or "ReduceScatter" in e["name"]]
    compute = []  # the union of compute kernels' intervals
    for a, b in sorted((e["ts"], e["ts"] + e["dur"]) for e in events if "nccl" not in e["name"].lower()):
        if compute and a <= compute[-1][1]:
            compute[-1][1] = max(compute[-1][1], b)
        else:
            compute.append([a, b])
    total = sum(b - a for a, b in reduce)
    hidden = 0.0
    for a, b in reduce:
        for c, d in compute:
            hidden += max(0.0, min(b, d) - max(a, c))
    print(f"{name} rank {rank}: gradient reduction {total / 1e3:.2f} ms, "
          f"under compute {hidden / 1e3:.2f} ms, exposed {(total - hidden) / 1e3:.2f} ms")
PY
done
