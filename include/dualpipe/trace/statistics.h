// Statistics of one rank's timeline: busy and idle GPU time, compute and communication time and
// how much of the communication ran under compute.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "dualpipe/trace/intervals.h"
#include "dualpipe/trace/timeline.h"

namespace dualpipe::trace {

// The busy periods behind the overlap figures (all clipped to the window asked for).
struct OverlapIntervals {
  IntervalSet compute;        // union of compute kernels (memcpy/memset excluded)
  IntervalSet communication;  // union of communication kernels
  IntervalSet hidden;         // communication while some compute kernel runs
  IntervalSet exposed;        // communication while no compute kernel runs
};

// Busy time of one stream.
struct StreamStatistics {
  std::string label;
  int kernels = 0;                // activities that overlap the window
  double busy_ms = 0.0;           // union of its activities
  double communication_ms = 0.0;  // union of its communication kernels
};

// The communication kernels an annotation launched, and the part of them during which no compute
// kernel of its rank ran. Durations in milliseconds.
struct AnnotationCommunication {
  double comm_ms = 0.0;
  double exposed_ms = 0.0;
};

// The figures `trace-view --summary` reports for one rank. Durations in milliseconds.
struct RankStatistics {
  std::string source;
  int rank = 0;
  double gpu_span_ms = 0.0;       // first activity start to last activity end
  double gpu_busy_ms = 0.0;       // union of all GPU activities
  double gpu_idle_ms = 0.0;       // span - busy
  double compute_ms = 0.0;        // union of compute kernels
  double comm_ms = 0.0;           // union of communication kernels
  double memcpy_memset_ms = 0.0;  // union of memcpy and memset activities
  double overlap_ms = 0.0;        // compute time during communication
  double overlap_pct = 0.0;       // overlap_ms / comm_ms * 100 (0 without communication)
  double exposed_comm_ms = 0.0;   // comm_ms - overlap_ms
  std::vector<StreamStatistics> streams;
  std::vector<AnnotationCommunication> annotations;  // one per timeline.annotations entry
};

// Which activities count: all of them, or only the parts inside `window` (absolute ns).
using TimeWindow = std::optional<Interval>;

// Compute / communication unions and their overlap, inside `window`.
OverlapIntervals overlap_intervals(const RankTimeline& timeline, const TimeWindow& window);

// The statistics of one rank inside `window`.
RankStatistics compute_statistics(const RankTimeline& timeline, const TimeWindow& window);

// Nanoseconds to milliseconds.
inline double to_ms(TimeNs ns) { return static_cast<double>(ns) / 1e6; }

}  // namespace dualpipe::trace
