// Step report: the parts of `trace-view --summary` that come from the step analysis — where each
// rank's time went, the clocks, the critical path and measured against simulated — as JSON
// fragments and text lines that summary_report.h puts together.
#pragma once

#include <string>
#include <vector>

#include "dualpipe/trace/step_analysis.h"
#include "dualpipe/trace/timeline.h"

namespace dualpipe::trace {

// The keys a rank's JSON entry gains (no braces): "span_ms", "wait_ms", "transfer_ms" and
// "attribution": {"compute_ms", "transfer_ms", "wait_ms", "host_gap_ms", "other_ms" (the five sum
// to span_ms), "other": {"memcpy_memset_ms", "unmatched_comm_ms", "queued_ms",
// "after_last_kernel_ms", "unknown_idle_ms"}, "waits": [{"peer", "ms", "peer_activity": [{"what",
// "ms"}]}]}. `t` indexes the timelines.
std::string rank_step_json(const std::vector<RankTimeline>& timelines, const StepAnalysis& analysis,
                           std::size_t t);

// The top-level keys (no braces): "step_ms", "clocks": {"estimated", "exchanges",
// "offsets_ms": [{"rank", "offset_ms"}], "notes"}, "matching": {"exchanges", "unmatched_calls",
// "notes"}, "critical_path": {"length_ms", "columns": ["rank", "start_ms", "end_ms",
// "category", "what"], "what": [phrases], "steps": [[rank, start_ms, end_ms, category, index into
// "what"]]} and "prediction" (null without action annotations): {"p2p_ms", "messages",
// "measured_ms", "simulated_ms", "simulated_with_host_ms", "ranks": [{"rank", "measured_ms",
// "simulated_ms", "simulated_with_host_ms"}], "largest_divergences": [{"rank", "action",
// "measured_start_ms", "simulated_start_ms", "added_ms", "host_gap_ms", "wait_ms"}],
// "unmodelled", "problem"}. Times in ms since `origin`.
std::string step_json(const std::vector<RankTimeline>& timelines, const StepAnalysis& analysis,
                      TimeNs origin);

// Two or three lines for a rank: its step time by category and whom it waited for.
std::string rank_step_text(const std::vector<RankTimeline>& timelines, const StepAnalysis& analysis,
                           std::size_t t);

// The clocks line, the critical path's longest steps and measured against simulated.
std::string step_text(const std::vector<RankTimeline>& timelines, const StepAnalysis& analysis,
                      TimeNs origin);

}  // namespace dualpipe::trace
