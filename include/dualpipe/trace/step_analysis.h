// Step analysis: everything trace-view tells about where a step's time went across ranks —
// matched exchanges, clock alignment, per-rank attribution, the critical path and the simulator's
// prediction — computed once for the reports and drawings.
#pragma once

#include <vector>

#include "dualpipe/trace/clock_alignment.h"
#include "dualpipe/trace/critical_path.h"
#include "dualpipe/trace/peer_matching.h"
#include "dualpipe/trace/statistics.h"
#include "dualpipe/trace/step_prediction.h"
#include "dualpipe/trace/time_attribution.h"
#include "dualpipe/trace/timeline.h"

namespace dualpipe::trace {

// The analysis of the timelines it was made from (vectors are indexed like them).
struct StepAnalysis {
  PeerMatching matching;
  ClockAlignment clocks;
  std::vector<std::vector<CallSplit>> splits;
  Interval span;                       // first GPU activity to last end, inside the window
  std::vector<RankAttribution> ranks;  // each timeline's attribution of `span`
  CriticalPath path;
  PredictionResult prediction;  // of the whole step, whatever the window
};

// Matches the calls of `timelines`, puts them on one clock (moving their times) and refuses
// traces of different runs (check_one_run's std::invalid_argument). Call it before choosing the
// time origin of reports.
StepAnalysis align_timelines(std::vector<RankTimeline>& timelines);

// Completes `analysis` (from align_timelines on the same timelines) inside `window`.
void analyse_step(const std::vector<RankTimeline>& timelines, const TimeWindow& window,
                  StepAnalysis& analysis);

}  // namespace dualpipe::trace
