#!/usr/bin/env bash
# The main job on bundled inputs: installs what is missing, builds Release, then
#  0. trains the MoE language model on Debian's license texts for about a minute on 4 CPU
#     processes (pipeline 2 x data 2, experts over 2 ranks, DualPipe), draws its loss curve and
#     its profiled step (train_moe_lm, trace-view),
#  1. plans expert placement from a bundled expert-load log (eplb-plan),
#  2. generates, simulates and draws a DualPipe schedule and compares it with the classic schedules
#     (pipeline-schedule),
#  3. summarises and draws a profile trace recorded on two H200s (trace-view).
# Everything it writes lands in out/.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DDUALPIPE_BUILD_TESTS=OFF >/dev/null
cmake --build build/release -j "$(nproc)" --target eplb-plan pipeline-schedule trace-view train_moe_lm
bin=build/release/apps
mkdir -p out

echo "== 0. train_moe_lm: an MoE language model on real text, pp 2 x dp 2 x ep 2, DualPipe, 4 CPU processes"
bash scripts/launch_local.sh 4 build/release/examples/train_moe_lm --pp 2 --dp 2 --ep 2 \
  --schedule dualpipe --steps "${DEMO_STEPS:-120}" --log-every 20 --replan-every 40 --zero on \
  --out out/lm | tee out/lm-train.log
"$bin/trace-view/trace-view" out/lm/trace.rank*.json --summary text -o out/lm/trace-summary.txt \
  --svg out/lm/trace.svg
head -n 12 out/lm/trace-summary.txt

echo "== 1. eplb-plan: 8 steps x 4 layers x 64 experts -> 80 replicas on 16 GPUs (2 nodes)"
"$bin/eplb-plan/eplb-plan" examples/data/expert_loads.csv --replicas 80 --groups 8 --nodes 2 \
  --gpus 16 -o out/placement.json --report text --svg out/placement.svg

echo "== 2. pipeline-schedule: DualPipe, 8 ranks, 20 micro-batches, DeepSeek-V3 costs"
"$bin/pipeline-schedule/pipeline-schedule" --schedule dualpipe --ranks 8 --microbatches 20 \
  --costs profiles/deepseek-v3-h800.yaml --json out/dualpipe.json --svg out/dualpipe.svg \
  --html out/dualpipe.html --chrome-trace out/dualpipe.chrome.json --summary text
"$bin/pipeline-schedule/pipeline-schedule" --compare dualpipe,dualpipev,zb1p,1f1b,gpipe --ranks 8 \
  --microbatches 20 --costs profiles/deepseek-v3-h800.yaml | tee out/compare.md

echo "== 3. trace-view: one DualPipe step of this runtime profiled on two H200s"
traces=(profiles/dualpipe_step_h200x2_rank0.json.gz profiles/dualpipe_step_h200x2_rank1.json.gz)
"$bin/trace-view/trace-view" "${traces[@]}" --summary text -o out/trace-summary.txt \
  --svg out/trace.svg --html out/trace.html --perfetto out/trace.perfetto.json
cat out/trace-summary.txt

echo
echo "demo.sh: results in $(pwd)/out:"
ls -1 out | sed 's/^/  out\//'
