#include "dualpipe/trace/critical_path.h"

#include <algorithm>

namespace dualpipe::trace {
namespace {

bool busy(const TimeSegment& segment) {
  return segment.category != TimeCategory::kHostGap &&
         !(segment.category == TimeCategory::kOther &&
           (segment.cause == OtherCause::kAfterLastKernel || segment.cause == OtherCause::kQueued ||
            segment.cause == OtherCause::kUnknownIdle));
}

// The segment of `segments` that covers the instant just before `time`.
const TimeSegment* segment_before(const std::vector<TimeSegment>& segments, TimeNs time) {
  const auto it = std::lower_bound(segments.begin(), segments.end(), time,
                                   [](const TimeSegment& s, TimeNs t) { return s.end < t; });
  if (it == segments.end() || it->start >= time) return nullptr;
  return &*it;
}

}  // namespace

CriticalPath critical_path(const std::vector<RankTimeline>& timelines,
                           const std::vector<RankAttribution>& attributions) {
  CriticalPath path;
  // Start where the last busy time of any rank ends.
  int rank = -1;
  TimeNs time = 0;
  for (std::size_t t = 0; t < attributions.size(); ++t) {
    for (auto it = attributions[t].segments.rbegin(); it != attributions[t].segments.rend(); ++it) {
      if (!busy(*it)) continue;
      if (rank < 0 || it->end > time) {
        rank = static_cast<int>(t);
        time = it->end;
      }
      break;
    }
  }
  if (rank < 0) return path;
  const TimeNs start = attributions.front().span.start;
  std::vector<PathStep> backwards;
  std::vector<TimeNs> longest;  // per step: its longest piece, which names it
  // The ranks the path passed through waits at this same instant: it never returns to one, so
  // each round moves `time` back or visits a new rank, and the walk ends.
  std::vector<bool> visited(attributions.size(), false);
  while (time > start) {
    visited[static_cast<std::size_t>(rank)] = true;
    const std::vector<TimeSegment>& segments =
        attributions[static_cast<std::size_t>(rank)].segments;
    const TimeSegment* segment = segment_before(segments, time);
    if (segment == nullptr) break;
    if (segment->category == TimeCategory::kWait && segment->peer >= 0 &&
        !visited[static_cast<std::size_t>(segment->peer)]) {
      rank = segment->peer;
      continue;
    }
    const TimeNs piece = time - segment->start;
    if (!backwards.empty() && backwards.back().timeline == rank &&
        backwards.back().category == segment->category && backwards.back().start == time) {
      backwards.back().start = segment->start;
      if (piece > longest.back()) {  // the step is named by its longest piece
        longest.back() = piece;
        backwards.back().what = describe_segment(timelines, rank, *segment);
      }
    } else {
      backwards.push_back({rank, segment->start, time, segment->category,
                           describe_segment(timelines, rank, *segment)});
      longest.push_back(piece);
    }
    time = segment->start;
    std::fill(visited.begin(), visited.end(), false);
  }
  path.steps.assign(backwards.rbegin(), backwards.rend());
  return path;
}

}  // namespace dualpipe::trace
