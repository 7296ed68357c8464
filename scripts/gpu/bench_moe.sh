#!/usr/bin/env bash
# MoE all-to-all hidden under compute, on one machine with two NVLink-linked GPUs (NCCL, bf16):
#   1. builds Release against the PyTorch wheel's LibTorch (scripts/gpu/build.sh; needs .deps/),
#   2. runs moe-bench (torchrun, 2 processes) over a sweep of sizes from compute-heavy to
#      communication-heavy, each with --check (overlapped vs sequential gradients, next to the
#      noise of a sequential rerun) and a trace of one overlapped and one sequential pair,
#   3. runs trace-view on every trace (both ranks): the share of communication under compute in
#      the overlapped pair, and communication vs compute in the sequential one (the balance); for
#      the best size, which exchanges were left exposed,
#   4. runs the best size again with NCCL's CTAs capped, once per value in CTAS (default "8 16";
#      CTAS= skips it), and once per entry of VARIANTS, extra moe-bench flags separated by ";"
#      (default: other --weight-phases, and DeepSeek-V3's pair order; VARIANTS= skips them),
#   5. runs the EPLB-in-the-loop example (tokens per GPU and step time before/after re-planning;
#      LOOP=0 skips it),
#   6. prints one compact summary. Takes about 8 minutes including the build.
# Usage: scripts/gpu/bench_moe.sh [OUT_DIR]   (default: profiles/moe; traces, SVG, JSON lines)
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-profiles/moe}
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
DUALPIPE_GPU_TESTS=OFF bash scripts/gpu/build.sh moe-bench trace-view moe_eplb_loop | tail -n 2
mkdir -p "$out"
bench=build/gpu/apps/moe-bench/moe-bench
view=build/gpu/apps/trace-view/trace-view
nvidia-smi --query-gpu=index,name,memory.total --format=csv,noheader

# Per MoE layer and micro-batch each rank sends tokens x topk rows of hidden bf16 values in each of
# dispatch and combine (forward and backward): with hidden 2048, top-8 and 16384 tokens that is
# 512 MiB per exchange, half of it over NVLink (about 1 ms at ~250 GB/s). Compute per phase:
# attention ~ 8 hidden^2 flops per token (flash attention), experts ~ 6 hidden ffn topk flops per
# token; per row sent, attention costs ~ hidden^2 / topk and an expert ~ hidden x ffn, while the exchange
# costs ~ hidden: a smaller hidden and ffn-hidden move the balance towards communication.
# Most of the compute is memory-bound passes over those rows, which grow like the exchanges do; a
# narrower expert and shorter sequences cut what does not (one H100, sequential pair's GPU compute:
# 32.5 ms at hidden 1024 / width 128 / sequence 1024, 28.5 ms at width 64 / sequence 256;
# docs/measurements/moe-compute-sizes-1xh100-2026-11-24.txt).
# Twice the copies per token (top-16 of 32 experts) over half the tokens exchanges the same rows
# with half the per-token compute (attention, norms, routing): the last size.
common=(--device cuda --dtype bfloat16 --layers 4 --steps 10 --warmup 3 --timeout 120)
top8="--experts 16 --topk 8"
configs=(
  "h2048_f256|$top8 --hidden 2048 --ffn-hidden 256 --tokens 16384 --seq 1024 --heads 16"
  "h1024_f256|$top8 --hidden 1024 --ffn-hidden 256 --tokens 32768 --seq 1024 --heads 16"
  "h1024_f128|$top8 --hidden 1024 --ffn-hidden 128 --tokens 32768 --seq 1024 --heads 16"
  "h1024_f64_s256|$top8 --hidden 1024 --ffn-hidden 64 --tokens 32768 --seq 256 --heads 16"
  "h1024_f64_s256_top16|--experts 32 --topk 16 --hidden 1024 --ffn-hidden 64 --tokens 16384 --seq 256 --heads 16"
)

# run_size NAME FLAGS...: one moe-bench run with both traces and their trace-view summaries.
run_size() {
  local name=$1
  shift
  echo "== moe-bench $name: $*"
  # A failing size (e.g. out of memory) is reported in the summary; the sweep goes on.
  torchrun --nproc-per-node 2 --no-python "$bench" "${common[@]}" "$@" --check \
    --profile "$out/moe_pair_$name.json" --profile-sequential "$out/moe_seq_$name.json" \
    --record-loads "$out/moe_loads_$name.json" 2>&1 | grep -v '^W.*torch/distributed/run.py' |
    tee "$out/moe_bench_$name.jsonl" || echo "moe-bench $name failed"
  for kind in pair seq; do
    "$view" "$out/moe_${kind}_$name.json" "$out/moe_${kind}_$name.rank1.json" --summary json \
      -o "$out/moe_${kind}_$name.summary.json" || echo "trace-view $kind $name failed"
  done
}

for config in "${configs[@]}"; do
  # shellcheck disable=SC2086
  run_size "${config%%|*}" ${config#*|}
done

# The size whose overlapped pair is fastest relative to sequential: its picture, and which of its
# exchanges were left exposed (one trace-view run for both).
best=$(python3 - "$out" "${configs[@]%%|*}" <<'EOF'
import json, sys
out, names = sys.argv[1], sys.argv[2:]
def ratio(n):
    try:
        return json.loads([l for l in open(f"{out}/moe_bench_{n}.jsonl") if l.startswith("{")][-1])["overlapped_over_sequential"]
    except Exception:
        return 9.0
print(min(names, key=ratio))
EOF
)
echo "== $best: communication exposed per exchange in the overlapped pair"
"$view" "$out/moe_pair_$best.json" "$out/moe_pair_$best.rank1.json" --summary text \
  --svg "$out/moe_pair_$best.svg" | grep -E '^rank|dispatch|combine' ||
  echo "trace-view picture and summary failed"

# The best size again with NCCL's CTAs capped (NCCL_MAX_CTAS; DeepSeek gives its all-to-all a
# fixed few SMs, so that it slows the compute beside it less): one run per value in CTAS.
names=("${configs[@]%%|*}")
for config in "${configs[@]}"; do
  if [[ ${config%%|*} == "$best" ]]; then best_flags=${config#*|}; fi
done
for ctas in ${CTAS-8 16}; do
  # shellcheck disable=SC2086
  NCCL_MAX_CTAS=$ctas run_size "${best}_ctas$ctas" $best_flags
  names+=("${best}_ctas$ctas")
done
# The best size again with other settings: other weight-gradient phases deferred than the
# default (attention's only), and the backward-first pair order, alone and with the experts' weight
# gradients deferred instead (they then run beside dispatch(B)). Named after their flags.
IFS=';' read -r -a variants <<<"${VARIANTS---weight-phases on;--weight-phases off;--pair-order backward;--pair-order backward --weight-phases mlp}"
for flags in "${variants[@]}"; do
  name="${best}$(echo "$flags" | sed -e 's/--weight-phases /_w/g' -e 's/--pair-order /_/g' -e 's/ //g')"
  # shellcheck disable=SC2086
  run_size "$name" $best_flags $flags
  names+=("$name")
done

if [[ ${LOOP-1} == 1 ]]; then
  echo "== EPLB in the loop (skewed router, plan, move experts, train on)"
  torchrun --nproc-per-node 2 --no-python build/gpu/examples/moe_eplb_loop --device cuda \
    --steps 100 --tokens 8192 --seq 256 --hidden 1024 --ffn-hidden 4096 2>&1 |
    grep -v '^W.*torch/distributed/run.py' | tee "$out/moe_eplb_loop.txt" || echo "loop failed"
fi

echo "== summary (ratio: overlapped / sequential pair, median; target <= 0.7; overlap: share of"
echo "   communication under compute in the overlapped pair, worse rank, target >= 90%; balance:"
echo "   communication / compute GPU time in the sequential pair; check: overlapped-vs-sequential"
echo "   gradient difference next to a sequential rerun's)"
python3 - "$out" "$best" "${names[@]}" <<'EOF'
import json, sys
out, best, names = sys.argv[1], sys.argv[2], sys.argv[3:]
print(f"{'size':22} {'seq ms':>8} {'ovl ms':>8} {'ratio':>6} {'overlap':>8} {'comm ms':>8} "
      f"{'compute':>8} {'balance':>7} {'check':>9} {'rerun':>9}")
for n in names:
    try:
        r = json.loads([l for l in open(f"{out}/moe_bench_{n}.jsonl") if l.startswith("{")][-1])
        pair = json.load(open(f"{out}/moe_pair_{n}.summary.json"))["traces"]
        seq = json.load(open(f"{out}/moe_seq_{n}.summary.json"))["traces"]
    except Exception as e:
        print(f"{n:22} failed: {e}")
        continue
    overlap = min(t["overlap_pct"] for t in pair)
    comm = max(t["comm_ms"] for t in seq)
    compute = max(t["compute_ms"] for t in seq)
    c = r.get("check", {})
    print(f"{n:22} {r['pair_ms_sequential_median']:8.2f} {r['pair_ms_overlapped_median']:8.2f} "
          f"{r['overlapped_over_sequential']:6.3f} {overlap:7.1f}% {comm:8.2f} {compute:8.2f} "
          f"{comm / compute:7.2f} {c.get('max_rel_grad_diff', -1):9.2e} "
          f"{c.get('rerun_rel_grad_diff', -1):9.2e}")
print(f"chosen size: {best} (trace {out}/moe_pair_{best}.json, picture {out}/moe_pair_{best}.svg)")
EOF
grep -sE "max/mean|median step time|non-finite" "$out/moe_eplb_loop.txt" || true
