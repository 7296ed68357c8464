// Summary reports: the per-rank figures of `trace-view --summary`, as text for people or JSON for
// programs.
#pragma once

#include <string>
#include <vector>

#include "dualpipe/trace/statistics.h"
#include "dualpipe/trace/step_analysis.h"
#include "dualpipe/trace/timeline.h"

namespace dualpipe::trace {

// Both reports cover `timelines` inside `window`, with times in ms since `origin` (absolute ns);
// `analysis` is analyse_step's for the same timelines and window.
// JSON: {"time_origin_us", "window_ms", the keys of step_json (step_report.h), "traces": [{"file",
// "rank", "gpu_span_ms",
// "gpu_busy_ms", "gpu_idle_ms", "compute_ms", "comm_ms", "memcpy_memset_ms", "overlap_pct",
// "exposed_comm_ms", "streams": [{"name", "kernels", "busy_ms", "comm_ms"}], "annotations":
// [{"name", "kind", "cpu_start_ms", "cpu_end_ms", "gpu_start_ms", "gpu_end_ms", "kernels",
// "gpu_busy_ms", "comm_ms", "exposed_comm_ms"}], "schedule": [{"action", "start_ms",
// "duration_ms"}], and the keys of rank_step_json}]}. Times in ms since the origin; an annotation
// that launched no GPU work has null GPU fields. An annotation's comm_ms is the communication
// kernels it launched, and exposed_comm_ms the part of them during which no compute kernel of its
// rank ran.
std::string summary_json(const std::vector<RankTimeline>& timelines, const StepAnalysis& analysis,
                         TimeNs origin, const TimeWindow& window);

// A short human-readable report: per rank a few lines (GPU time, communication, where the step
// went, whom it waited for, the annotations whose communication was most exposed), then the
// clocks, the critical path and measured against simulated.
std::string summary_text(const std::vector<RankTimeline>& timelines, const StepAnalysis& analysis,
                         TimeNs origin, const TimeWindow& window);

}  // namespace dualpipe::trace
