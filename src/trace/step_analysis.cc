#include "dualpipe/trace/step_analysis.h"

#include <algorithm>

namespace dualpipe::trace {

StepAnalysis align_timelines(std::vector<RankTimeline>& timelines) {
  StepAnalysis analysis;
  analysis.matching = match_calls(timelines);
  analysis.clocks = align_clocks(timelines, analysis.matching);
  apply_clock_offsets(timelines, analysis.clocks);
  check_one_run(timelines, analysis.clocks);
  return analysis;
}

void analyse_step(const std::vector<RankTimeline>& timelines, const TimeWindow& window,
                  StepAnalysis& analysis) {
  analysis.splits = split_calls(timelines, analysis.matching);
  TimeNs start = earliest_gpu_start(timelines);
  TimeNs end = start;
  for (const RankTimeline& timeline : timelines) end = std::max(end, timeline.gpu_end());
  const Interval whole{start, end};
  if (window) {
    start = std::max(start, window->start);
    end = std::max(start, std::min(end, window->end));
  }
  analysis.span = {start, end};
  analysis.ranks = attribute_time(timelines, analysis.splits, analysis.span);
  analysis.path = critical_path(timelines, analysis.ranks);
  // The prediction is of the whole step, whatever the window.
  analysis.prediction =
      predict_step(timelines, analysis.splits,
                   window ? attribute_time(timelines, analysis.splits, whole) : analysis.ranks);
}

}  // namespace dualpipe::trace
