// Critical path: the chain of work across ranks that set the step's length. It is found by walking
// back from the step's last kernel: along a rank's own time, and across to a peer wherever the
// rank was waiting for it.
#pragma once

#include <string>
#include <vector>

#include "dualpipe/trace/time_attribution.h"
#include "dualpipe/trace/timeline.h"

namespace dualpipe::trace {

// One link of the chain: a stretch of one rank's time in one category.
struct PathStep {
  int timeline = 0;  // index into the timelines
  TimeNs start = 0;
  TimeNs end = 0;
  TimeCategory category = TimeCategory::kCompute;
  std::string what;  // describe_segment's phrase for its longest piece, e.g. "compute F s0 m1 d1"
  TimeNs length() const { return end - start; }
};

// The chain in time order; its steps touch end to start and cover the span's start to the step's
// last kernel end.
struct CriticalPath {
  std::vector<PathStep> steps;
  TimeNs length() const { return steps.empty() ? 0 : steps.back().end - steps.front().start; }
};

// Walks back from the latest end of busy time over all ranks inside the attributions' span. At
// each instant the path follows the rank it is on, except that time a rank spent waiting for a
// peer is replaced by what the peer did meanwhile (the path moves to the peer). Consecutive
// stretches of one rank in one category are one step.
CriticalPath critical_path(const std::vector<RankTimeline>& timelines,
                           const std::vector<RankAttribution>& attributions);

}  // namespace dualpipe::trace
