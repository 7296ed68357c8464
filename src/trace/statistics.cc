#include "dualpipe/trace/statistics.h"

#include <algorithm>

namespace dualpipe::trace {
namespace {

IntervalSet clipped_union(std::vector<Interval> intervals, const TimeWindow& window) {
  IntervalSet set = union_of(std::move(intervals));
  return window ? clip(set, *window) : set;
}

template <typename Predicate>
std::vector<Interval> kernels_where(const RankTimeline& timeline, Predicate keep) {
  std::vector<Interval> intervals;
  for (const StreamTimeline& stream : timeline.streams) {
    for (const TimelineKernel& kernel : stream.kernels) {
      if (keep(kernel)) intervals.push_back({kernel.start, kernel.end});
    }
  }
  return intervals;
}

// First start to last end of the activities (zero-length ones too), clipped to the window.
std::optional<Interval> activity_span(const RankTimeline& timeline, const TimeWindow& window) {
  std::optional<Interval> span;
  for (const StreamTimeline& stream : timeline.streams) {
    for (const TimelineKernel& kernel : stream.kernels) {
      if (window && (kernel.end < window->start || kernel.start > window->end)) continue;
      if (!span) span = Interval{kernel.start, kernel.end};
      span->start = std::min(span->start, kernel.start);
      span->end = std::max(span->end, kernel.end);
    }
  }
  if (span && window) {
    span->start = std::max(span->start, window->start);
    span->end = std::min(span->end, window->end);
  }
  return span;
}

StreamStatistics stream_statistics(const StreamTimeline& stream, const TimeWindow& window) {
  StreamStatistics stats;
  stats.label = stream.label;
  std::vector<Interval> all;
  std::vector<Interval> communication;
  for (const TimelineKernel& kernel : stream.kernels) {
    if (window && (kernel.end <= window->start || kernel.start >= window->end)) continue;
    ++stats.kernels;
    all.push_back({kernel.start, kernel.end});
    if (kernel.kind == KernelKind::kCommunication) communication.push_back(all.back());
  }
  stats.busy_ms = to_ms(total_length(clipped_union(std::move(all), window)));
  stats.communication_ms = to_ms(total_length(clipped_union(std::move(communication), window)));
  return stats;
}

AnnotationCommunication annotation_communication(const AnnotationWindow& annotation,
                                                 const IntervalSet& compute,
                                                 const TimeWindow& window) {
  const IntervalSet communication =
      window ? clip(annotation.communication, *window) : annotation.communication;
  return {to_ms(total_length(communication)),
          to_ms(total_length(difference(communication, compute)))};
}

}  // namespace

OverlapIntervals overlap_intervals(const RankTimeline& timeline, const TimeWindow& window) {
  OverlapIntervals result;
  result.compute = clipped_union(
      kernels_where(timeline,
                    [](const TimelineKernel& k) { return k.kind == KernelKind::kCompute; }),
      window);
  result.communication = clipped_union(
      kernels_where(timeline,
                    [](const TimelineKernel& k) { return k.kind == KernelKind::kCommunication; }),
      window);
  result.hidden = intersection(result.communication, result.compute);
  result.exposed = difference(result.communication, result.compute);
  return result;
}

RankStatistics compute_statistics(const RankTimeline& timeline, const TimeWindow& window) {
  RankStatistics stats;
  stats.source = timeline.source;
  stats.rank = timeline.rank;
  const IntervalSet busy =
      clipped_union(kernels_where(timeline, [](const TimelineKernel&) { return true; }), window);
  const std::optional<Interval> span = activity_span(timeline, window);
  if (span) {
    stats.gpu_span_ms = to_ms(span->length());
    stats.gpu_busy_ms = to_ms(total_length(busy));
    stats.gpu_idle_ms = stats.gpu_span_ms - stats.gpu_busy_ms;
  }
  const OverlapIntervals overlap = overlap_intervals(timeline, window);
  stats.compute_ms = to_ms(total_length(overlap.compute));
  stats.comm_ms = to_ms(total_length(overlap.communication));
  stats.overlap_ms = to_ms(total_length(overlap.hidden));
  stats.exposed_comm_ms = to_ms(total_length(overlap.exposed));
  stats.overlap_pct = stats.comm_ms > 0 ? 100.0 * stats.overlap_ms / stats.comm_ms : 0.0;
  stats.memcpy_memset_ms =
      to_ms(total_length(clipped_union(kernels_where(timeline,
                                                     [](const TimelineKernel& k) {
                                                       return k.kind == KernelKind::kMemcpy ||
                                                              k.kind == KernelKind::kMemset;
                                                     }),
                                       window)));
  for (const StreamTimeline& stream : timeline.streams) {
    stats.streams.push_back(stream_statistics(stream, window));
  }
  for (const AnnotationWindow& annotation : timeline.annotations) {
    stats.annotations.push_back(annotation_communication(annotation, overlap.compute, window));
  }
  return stats;
}

}  // namespace dualpipe::trace
