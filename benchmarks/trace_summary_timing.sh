#!/usr/bin/env bash
# Times one large trace's summary three ways, ROUNDS times in turn (default 5): trace-view
# --summary json (attribution included), the minimal simdjson program (benchmarks/
# simdjson_parse_floor.cc: On-Demand visiting every field of every event, and a DOM parse), and the
# Python reference summary. Prints each one's median wall and CPU (user + sys) time, peak memory,
# MB/s, and the ratios the docs quote (whole processes, file reading included).
# Usage: benchmarks/trace_summary_timing.sh TRACE.json BUILD_DIR   (BUILD_DIR: a Release build)
set -euo pipefail
trace=$1
build=$2
rounds=${ROUNDS:-5}
cd "$(dirname "$0")/.."
results=$(mktemp)
trap 'rm -f "$results"' EXIT
measure() {  # measure NAME COMMAND...: appends "NAME wall cpu max_kb"
  local name=$1
  shift
  /usr/bin/time -f "$name %e %U %S %M" -o "$results.one" "$@" >/dev/null
  awk '{print $1, $2, $3 + $4, $5}' "$results.one" >> "$results"
}
for _ in $(seq "$rounds"); do
  measure trace-view "$build/apps/trace-view/trace-view" "$trace" --summary json -o /dev/null
  if [[ -n ${BASELINE:-} ]]; then measure baseline "$BASELINE" "$trace" --summary json -o /dev/null; fi
  measure simdjson-on-demand "$build/benchmarks/simdjson_parse_floor" "$trace"
  measure simdjson-dom "$build/benchmarks/simdjson_parse_floor" "$trace" --dom
  measure python python3 benchmarks/trace_summary_reference.py "$trace"
done
rm -f "$results.one"
python3 - "$results" "$(stat -c %s "$trace")" <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
mb = int(sys.argv[2]) / 1e6
medians = {}
for name in dict.fromkeys(r[0] for r in rows):
    mine = [r for r in rows if r[0] == name]
    wall = statistics.median(float(r[1]) for r in mine)
    cpu = statistics.median(float(r[2]) for r in mine)
    peak = max(int(r[3]) for r in mine) / 1024
    medians[name] = (wall, cpu)
    print(f"{name:20} wall {wall:6.3f} s  cpu {cpu:6.3f} s  peak {peak:6.0f} MiB  "
          f"{mb / wall:7.1f} MB/s (wall)")
tv = medians["trace-view"]
for name in ("simdjson-on-demand", "simdjson-dom"):
    other = medians[name]
    print(f"trace-view's time / {name}'s: wall {tv[0] / other[0]:.2f}x, cpu {tv[1] / other[1]:.2f}x")
for name in ("python", "baseline"):
    if name in medians:
        other = medians[name]
        print(f"{name}'s time / trace-view's: wall {other[0] / tv[0]:.1f}x, cpu {other[1] / tv[1]:.1f}x")
PY
