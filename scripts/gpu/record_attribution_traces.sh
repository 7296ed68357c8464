#!/usr/bin/env bash
# Records fresh traces of the runtime on ONE GPU for trace-view's time attribution, and runs the
# attribution on each: DualPipe on two ranks sharing the GPU over Gloo, and DualPipeV on one rank
# with a stream per stage, each eager and with CUDA graphs (pipeline-bench --cuda-graphs). Each
# run's per-rank traces are gzipped as OUT_DIR/<run>_rank<r>.json.gz (the names trace-view's tests
# and docs use for profiles/), with trace-view's text summary, JSON summary and SVG beside them, and
# a table of every rank's step split into compute / transfer / waiting / host gaps / other.
# Builds pipeline-bench and trace-view (scripts/gpu/build.sh; needs .deps/ in the checkout with
# simdjson, RE2 and Gloo's headers: README "On a GPU machine", plus libre2-dev and libre2-9
# unpacked the same way).
# Usage: scripts/gpu/record_attribution_traces.sh [OUT_DIR]   (default: $OUT, else out/attribution)
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-${OUT:-out/attribution}}
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
if ! ls .deps/root/usr/include/re2/re2.h >/dev/null 2>&1 && ! ls /usr/include/re2/re2.h >/dev/null 2>&1; then
  echo "record_attribution_traces.sh: RE2 not found: on a machine with a registry run" \
    "'(cd .deps && apt-get download libre2-dev libre2-9 && for f in *.deb; do dpkg -x \"\$f\" root; done)'" \
    "and bring .deps to this machine" >&2
  exit 2
fi
DUALPIPE_GPU_TESTS=OFF bash scripts/gpu/build.sh pipeline-bench trace-view | tail -n 1
mkdir -p "$out"
nvidia-smi --query-gpu=name --format=csv,noheader | tee "$out/device.txt"
git rev-parse --short HEAD > "$out/commit.txt" 2>/dev/null || true
bench=build/gpu/apps/pipeline-bench/pipeline-bench
view=build/gpu/apps/trace-view/trace-view
# A medium size (hidden 1024, bf16), 8 micro-batches: a step of a few tens of ms, traces of a few MB.
size=(--hidden 1024 --seq 512 --microbatch-size 2 --microbatches 8 --dtype bfloat16 --device cuda)

# record NAME RANKS FLAGS...: times a few steps, profiles one more, and analyses it.
record() {
  local name=$1 ranks=$2
  shift 2
  local raw="$out/$name.json"
  timeout 300 torchrun --nproc-per-node "$ranks" --no-python "$bench" "${size[@]}" "$@" \
    --steps 5 --warmup 3 --profile "$raw" | tee "$out/$name.bench.json"
  local traces=()
  for ((rank = 0; rank < ranks; rank++)); do
    local written="$raw"
    ((rank > 0)) && written="$out/$name.rank$rank.json"
    gzip -9 -c "$written" > "$out/${name}_rank$rank.json.gz"
    rm -f "$written"
    traces+=("$out/${name}_rank$rank.json.gz")
  done
  "$view" "${traces[@]}" --summary text -o "$out/$name.summary.txt" \
    --svg "$out/$name.svg" --perfetto "$out/$name.perfetto.json"
  "$view" "${traces[@]}" --summary json -o "$out/$name.summary.json"
  cat "$out/$name.summary.txt"
}

record dualpipe_gloo_1gpu_eager 2 --schedule dualpipe --comm-backend gloo --cuda-graphs off
record dualpipe_gloo_1gpu_graphs 2 --schedule dualpipe --comm-backend gloo --cuda-graphs on
record dualpipev_1gpu_eager 1 --schedule dualpipev --stage-streams on --cuda-graphs off
record dualpipev_1gpu_graphs 1 --schedule dualpipev --stage-streams on --cuda-graphs on

# Where each rank's step went, run by run (ms), and the simulator's prediction.
python3 - "$out" <<'PY' | tee "$out/attribution.txt"
import json, sys, pathlib
out = pathlib.Path(sys.argv[1])
print(f"{'run':28} rank  step_ms  compute  transfer  waiting  host_gap  other   predicted (GPU / +host)")
for path in sorted(out.glob("*.summary.json")):
    summary = json.loads(path.read_text())
    p = summary.get("prediction") or {}
    for trace in summary["traces"]:
        a = trace["attribution"]
        print(f"{path.name[:-len('.summary.json')]:28} {trace['rank']:4} {trace['span_ms']:8.3f} "
              f"{a['compute_ms']:8.3f} {a['transfer_ms']:9.3f} {a['wait_ms']:8.3f} "
              f"{a['host_gap_ms']:9.3f} {a['other_ms']:6.3f}   "
              f"{p.get('simulated_ms', 0):.3f} / {p.get('simulated_with_host_ms', 0):.3f}"
              f" of {p.get('measured_ms', 0):.3f}")
PY
