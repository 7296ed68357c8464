#!/usr/bin/env bash
# Measures the C++ DualPipe (pipeline-bench) against the reference Python DualPipe on two GPUs of
# one machine, at three sizes (small, medium, large), and records one DualPipe step's profile.
#
#   scripts/gpu/bench_pipeline.sh            # results and traces in out/pipeline-bench/
#   scripts/gpu/bench_pipeline.sh --short    # small and medium only, 10 steps, no trace (< 4 min)
#
# Needs: 2 GPUs, torchrun and PyTorch (2.11 + CUDA, its LibTorch is what we build against),
# simdjson in .deps/root/usr (see scripts/gpu/build.sh) and the reference package deepseek-ai/DualPipe
# copied (never committed) into .ref/dualpipe (the package folder) or .ref/DualPipe/dualpipe;
# DUALPIPE_REF overrides the folder put on PYTHONPATH. STEPS and WARMUP override 20 and 5 (10 and 3
# with --short); RUN_LIMIT_S (default 240) bounds each launch. The C++ runs also report
# host_ms_median (CPU time of the thread calling step()); at the two small sizes the C++ side also
# runs with --concurrent-pairs off, to show what running an FB pair's backward on a helper thread
# (the CUDA default) gains, and the C++ runs at the two small sizes record one more step's host
# timeline (--host-timeline; summary in host-*-summary.txt).
# Every size also runs the C++ side with its stages graphed (--cuda-graphs on, with --check; in every
# round at the two small sizes): the table's last column. At the two small sizes the graphed run is
# repeated once with --stage-streams off (both stages of a rank on one stream), to show what a
# stream per stage (the CUDA default) gains.
# The reference's step time drifts between launches (21 to 45 ms at the small size on one machine),
# so at the two small sizes C++ and reference run in turn ROUNDS times (default 3; 1 with --short)
# and the ratio quoted is the median of the rounds' ratios.
# Prints a table: C++ and reference step medians (of the rounds' medians), the ratio (target <= 0.5
# at the two small sizes), and at the largest size the C++ median over the ideal (half of the whole
# model's compute on one GPU, measured here with gpipe on one rank; target <= 1.04).
set -euo pipefail
cd "$(dirname "$0")/../.."
export NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
short=false
[[ ${1:-} == --short ]] && short=true
if $short; then
  steps=${STEPS:-10}
  warmup=${WARMUP:-3}
  rounds=${ROUNDS:-1}
else
  steps=${STEPS:-20}
  warmup=${WARMUP:-5}
  rounds=${ROUNDS:-3}
fi
run_limit=${RUN_LIMIT_S:-240}  # seconds one launch may take: a hang ends that run, not the script
out=out/pipeline-bench
mkdir -p "$out"

if $short; then
  DUALPIPE_GPU_TESTS=OFF bash scripts/gpu/build.sh pipeline-bench
else
  DUALPIPE_GPU_TESTS=OFF bash scripts/gpu/build.sh pipeline-bench trace-view
fi
bench=build/gpu/apps/pipeline-bench/pipeline-bench
trace_view=build/gpu/apps/trace-view/trace-view

ref=${DUALPIPE_REF:-}
if [[ -z "$ref" ]]; then
  for candidate in .ref .ref/DualPipe .ref/dualpipe; do
    if [[ -f "$candidate/dualpipe/dualpipe.py" ]]; then ref=$candidate; break; fi
  done
fi
if [[ -z "$ref" || ! -f "$ref/dualpipe/dualpipe.py" ]]; then
  echo "bench_pipeline.sh: reference DualPipe not found: put deepseek-ai/DualPipe's dualpipe/ package in .ref/ or set DUALPIPE_REF" >&2
  exit 2
fi

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$out/device.txt"
python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "nccl", torch.cuda.nccl.version())' | tee -a "$out/device.txt"

# name  hidden seq microbatch-size microbatches dtype
sizes=("small 512 256 3 20 float32" "medium 1024 512 2 20 bfloat16" "large 4096 1024 2 20 bfloat16")
$short && sizes=("${sizes[@]:0:2}")

json_field() {  # json_field FILE KEY: a number from the last JSON line of FILE
  python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])[sys.argv[2]])' "$1" "$2"
}

run_cpp() {  # run_cpp NAME RANKS SCHEDULE H L M N DTYPE [extra flags]
  local name=$1 ranks=$2 schedule=$3 h=$4 l=$5 m=$6 n=$7 dtype=$8
  shift 8
  local cmd=(torchrun --nproc-per-node "$ranks" --no-python "$bench" --schedule "$schedule" --hidden "$h" --seq "$l"
             --microbatch-size "$m" --microbatches "$n" --dtype "$dtype" --device cuda --steps "$steps" --warmup "$warmup" "$@")
  echo "+ ${cmd[*]}" | tee "$out/$name.cmd"
  timeout -k 10 "$run_limit" "${cmd[@]}" | tee "$out/$name.json"
}

run_cpp_graphed() {  # run_cpp_graphed NAME ...: run_cpp with --cuda-graphs on; a failure is recorded, not fatal
  local name=$1
  shift
  run_cpp "$name" "$@" --cuda-graphs on ||
    echo '{"step_ms_median": NaN, "failed": true}' | tee "$out/$name.json"
}

run_reference() {  # run_reference NAME H L M N DTYPE
  local name=$1 h=$2 l=$3 m=$4 n=$5 dtype=$6
  local cmd=(torchrun --nproc-per-node 2 scripts/gpu/reference_dualpipe_bench.py --hidden "$h" --seq "$l"
             --microbatch-size "$m" --microbatches "$n" --dtype "$dtype" --steps "$steps" --warmup "$warmup")
  echo "+ PYTHONPATH=$ref ${cmd[*]}" | tee "$out/$name.cmd"
  PYTHONPATH="$ref${PYTHONPATH:+:$PYTHONPATH}" timeout -k 10 "$run_limit" "${cmd[@]}" |
    tee "$out/$name.json"
}

for size in "${sizes[@]}"; do
  read -r name h l m n dtype <<<"$size"
  timeline=()
  [[ $name != large ]] && timeline=(--host-timeline "$out/host-$name.json")
  run_cpp "cpp-$name" 2 dualpipe "$h" "$l" "$m" "$n" "$dtype" --check "${timeline[@]}"
  run_cpp_graphed "cppgraphs-$name" 2 dualpipe "$h" "$l" "$m" "$n" "$dtype" --check
  if [[ $name != large ]]; then
    run_cpp "cpp-$name-sequential-pairs" 2 dualpipe "$h" "$l" "$m" "$n" "$dtype" --concurrent-pairs off
    run_cpp_graphed "cppgraphs-$name-one-stream" 2 dualpipe "$h" "$l" "$m" "$n" "$dtype" \
      --stage-streams off
  fi
  run_reference "ref-$name" "$h" "$l" "$m" "$n" "$dtype"
  if [[ $name != large ]]; then
    for ((round = 2; round <= rounds; ++round)); do
      run_cpp "cpp-$name-round$round" 2 dualpipe "$h" "$l" "$m" "$n" "$dtype"
      run_cpp_graphed "cppgraphs-$name-round$round" 2 dualpipe "$h" "$l" "$m" "$n" "$dtype"
      run_reference "ref-$name-round$round" "$h" "$l" "$m" "$n" "$dtype"
    done
  fi
done

round_files() {  # round_files SIDE NAME: the JSON files of every round of SIDE (cpp, cppgraphs or ref) at NAME
  local files=("$out/$1-$2.json")
  for ((round = 2; round <= rounds; ++round)); do files+=("$out/$1-$2-round$round.json"); done
  echo "${files[@]}"
}

rounds_summary() {  # rounds_summary NAME [SIDE]: "C++ ms, reference ms, ratio" as medians over the rounds
  python3 - "$rounds" $(round_files "${2:-cpp}" "$1") $(round_files ref "$1") <<'PY'
import json, statistics, sys
rounds = int(sys.argv[1])
def step_ms(path):
    return json.loads(open(path).read().strip().splitlines()[-1])["step_ms_median"]
cpp = [step_ms(p) for p in sys.argv[2:2 + rounds]]
ref = [step_ms(p) for p in sys.argv[2 + rounds:]]
ratios = [c / r for c, r in zip(cpp, ref)]
print(statistics.median(cpp), statistics.median(ref), f"{statistics.median(ratios):.3f}",
      " ".join(f"{x:.3f}" for x in ratios))
PY
}
if ! $short; then
  read -r _ h l m n dtype <<<"${sizes[2]}"
  run_cpp "one-gpu-large" 1 gpipe "$h" "$l" "$m" "$n" "$dtype"

  # One DualPipe step's trace per rank (medium size), and trace-view's reading of it.
  read -r _ h l m n dtype <<<"${sizes[1]}"
  run_cpp "profile-medium" 2 dualpipe "$h" "$l" "$m" "$n" "$dtype" --profile "$out/dualpipe_step.json"
  "$trace_view" "$out/dualpipe_step.json" "$out/dualpipe_step.rank1.json" --summary text \
    --svg "$out/dualpipe_step.svg" | tee "$out/dualpipe_step_summary.txt"
fi

for size in "${sizes[@]:0:2}"; do
  read -r name _ <<<"$size"
  python3 scripts/gpu/host_timeline_summary.py "$out/host-$name.json" "$out/host-$name.rank1.json" |
    tee "$out/host-$name-summary.txt"
done

echo
printf '%-8s %-30s %12s %12s %8s %-15s %s\n' size "H L M N dtype" "C++ ms" "ref ms" "ratio" "target" \
  "C++ host ms; sequential pairs: ms, host ms; ratio of each round; CUDA graphs: ms, ratio, each round; graphed on one stream: ms"
for size in "${sizes[@]}"; do
  read -r name h l m n dtype <<<"$size"
  host=$(json_field "$out/cpp-$name.json" host_ms_median)
  target="<= 0.5"
  sequential="-"
  each_round="-"
  one_stream="-"
  if [[ $name == large ]]; then
    target="(ideal: below)"
    cpp=$(json_field "$out/cpp-$name.json" step_ms_median)
    ref_ms=$(json_field "$out/ref-$name.json" step_ms_median)
    ratio=$(python3 -c "print(f'{$cpp / $ref_ms:.3f}')")
    graphed=$(json_field "$out/cppgraphs-$name.json" step_ms_median)
  else
    sequential="$(json_field "$out/cpp-$name-sequential-pairs.json" step_ms_median), $(json_field "$out/cpp-$name-sequential-pairs.json" host_ms_median)"
    read -r cpp ref_ms ratio each_round <<<"$(rounds_summary "$name")"
    read -r graphed _ graphed_ratio graphed_rounds <<<"$(rounds_summary "$name" cppgraphs)"
    graphed="$graphed, $graphed_ratio, $graphed_rounds"
    one_stream=$(json_field "$out/cppgraphs-$name-one-stream.json" step_ms_median)
  fi
  printf '%-8s %-30s %12.2f %12.2f %8s %-15s %s; %s; %s; %s; %s\n' "$name" "$h $l $m $n $dtype" "$cpp" \
    "$ref_ms" "$ratio" "$target" "$host" "$sequential" "$each_round" "$graphed" "$one_stream"
done
if ! $short; then
  one_gpu=$(json_field "$out/one-gpu-large.json" step_ms_median)
  cpp=$(json_field "$out/cpp-large.json" step_ms_median)
  graphed=$(json_field "$out/cppgraphs-large.json" step_ms_median)
  python3 -c "print(f'large: whole model on one GPU {$one_gpu:.2f} ms, ideal on 2 GPUs {$one_gpu / 2:.2f} ms, C++ DualPipe {$cpp:.2f} ms = {$cpp / ($one_gpu / 2):.3f} x ideal (target <= 1.04); with CUDA graphs {$graphed:.2f} ms = {$graphed / ($one_gpu / 2):.3f} x ideal')"
fi
echo "checks (losses equal, max relative gradient difference):"
for size in "${sizes[@]}"; do
  read -r name _ <<<"$size"
  for side in cpp cppgraphs; do
    python3 -c 'import json,sys; print(sys.argv[2], json.loads(open(sys.argv[1]).read().strip().splitlines()[-1]).get("check"))' "$out/$side-$name.json" "$name $side"
  done
done
$short || echo "traces: $out/dualpipe_step.json $out/dualpipe_step.rank1.json (copy to profiles/), picture: $out/dualpipe_step.svg"
