#include "dualpipe/trace/clock_alignment.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <queue>
#include <stdexcept>

namespace dualpipe::trace {
namespace {

// Start and end of the kernel of each call of an exchange, on the traces' own clocks.
struct MemberTimes {
  int timeline = 0;
  bool sends = false;  // the send of a point-to-point pair (its end may precede the receive)
  TimeNs start = 0;
  TimeNs end = 0;
};

std::vector<MemberTimes> member_times(const std::vector<RankTimeline>& timelines,
                                      const CallGroup& group) {
  std::vector<MemberTimes> members;
  for (std::size_t i = 0; i < group.calls.size(); ++i) {
    const CallRef& ref = group.calls[i];
    const RankTimeline& timeline = timelines[static_cast<std::size_t>(ref.timeline)];
    const TimelineKernel& kernel = kernel_of(timeline, timeline.calls[ref.call]);
    members.push_back(
        {ref.timeline, group.kind == CallKind::kSend && i == 0, kernel.start, kernel.end});
  }
  return members;
}

// What the exchanges between two timelines a < b say about d = offset[b] - offset[a].
struct PairEvidence {
  TimeNs lowest = INT64_MIN;     // d must be at least this
  TimeNs highest = INT64_MAX;    // and at most this
  std::vector<TimeNs> end_gaps;  // end on a minus end on b, per exchange
};

// Member `later` of an exchange cannot end before member `earlier` started:
// end_later + offset_later >= start_earlier + offset_earlier.
void bound(std::map<std::pair<int, int>, PairEvidence>& evidence, const MemberTimes& finisher,
           const MemberTimes& starter) {
  if (finisher.timeline == starter.timeline) return;
  if (finisher.sends) return;  // a send may finish into the receiver's buffer before it came
  const TimeNs limit = starter.start - finisher.end;  // offset_f - offset_s >= limit
  if (finisher.timeline < starter.timeline) {
    PairEvidence& e = evidence[{finisher.timeline, starter.timeline}];
    e.highest = std::min(e.highest, -limit);  // d = offset_s - offset_f <= -limit
  } else {
    PairEvidence& e = evidence[{starter.timeline, finisher.timeline}];
    e.lowest = std::max(e.lowest, limit);  // d = offset_f - offset_s >= limit
  }
}

TimeNs median(std::vector<TimeNs> values) {
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(values.size() / 2),
                   values.end());
  return values[values.size() / 2];
}

std::string seconds(TimeNs ns) {
  char text[64];
  std::snprintf(text, sizeof text, "%.3f s", static_cast<double>(ns) / 1e9);
  return text;
}

std::string milliseconds(TimeNs ns) {
  char text[64];
  std::snprintf(text, sizeof text, "%.3f ms", static_cast<double>(ns) / 1e6);
  return text;
}

}  // namespace

ClockAlignment align_clocks(const std::vector<RankTimeline>& timelines,
                            const PeerMatching& matching) {
  ClockAlignment alignment;
  alignment.offsets.assign(timelines.size(), 0);
  std::map<std::pair<int, int>, PairEvidence> evidence;
  bool one_clock = true;
  for (const CallGroup& group : matching.groups) {
    const std::vector<MemberTimes> members = member_times(timelines, group);
    ++alignment.exchanges;
    for (const MemberTimes& finisher : members) {
      for (const MemberTimes& starter : members) {
        if (finisher.timeline == starter.timeline || finisher.sends) continue;
        one_clock &= finisher.end >= starter.start;
        bound(evidence, finisher, starter);
      }
    }
    for (std::size_t i = 1; i < members.size(); ++i) {
      const MemberTimes& a = members[0].timeline < members[i].timeline ? members[0] : members[i];
      const MemberTimes& b = members[0].timeline < members[i].timeline ? members[i] : members[0];
      evidence[{a.timeline, b.timeline}].end_gaps.push_back(a.end - b.end);
    }
  }
  if (one_clock) return alignment;
  alignment.estimated = true;
  // d per pair, then offsets chained outwards from timeline 0 (breadth first).
  std::map<int, std::vector<std::pair<int, TimeNs>>> edges;
  for (const auto& [pair, e] : evidence) {
    if (e.end_gaps.empty()) continue;
    TimeNs d = median(e.end_gaps);
    if (e.lowest <= e.highest) d = std::clamp(d, e.lowest, e.highest);
    edges[pair.first].emplace_back(pair.second, d);
    edges[pair.second].emplace_back(pair.first, -d);
  }
  std::vector<bool> placed(timelines.size(), false);
  std::queue<int> frontier;
  for (std::size_t start = 0; start < timelines.size(); ++start) {
    if (placed[start]) continue;
    if (start > 0) {
      alignment.notes.push_back("rank " + std::to_string(timelines[start].rank) +
                                " exchanged nothing matched with rank " +
                                std::to_string(timelines[0].rank) +
                                "'s group of ranks: left on its own clock");
    }
    placed[start] = true;
    frontier.push(static_cast<int>(start));
    while (!frontier.empty()) {
      const int from = frontier.front();
      frontier.pop();
      for (const auto& [to, d] : edges[from]) {
        if (placed[static_cast<std::size_t>(to)]) continue;
        placed[static_cast<std::size_t>(to)] = true;
        alignment.offsets[static_cast<std::size_t>(to)] =
            alignment.offsets[static_cast<std::size_t>(from)] + d;
        frontier.push(to);
      }
    }
  }
  return alignment;
}

void apply_clock_offsets(std::vector<RankTimeline>& timelines, const ClockAlignment& alignment) {
  for (std::size_t t = 0; t < timelines.size() && t < alignment.offsets.size(); ++t) {
    if (alignment.offsets[t] != 0) shift_timeline(timelines[t], alignment.offsets[t]);
  }
}

void check_one_run(const std::vector<RankTimeline>& timelines, const ClockAlignment& alignment) {
  const auto refuse = [](const std::string& why) {
    throw std::invalid_argument(why + ": traces of different runs cannot share one time axis");
  };
  for (const RankTimeline& timeline : timelines) {
    const RankTimeline& first = timelines.front();
    if (timeline.world_size && first.world_size && *timeline.world_size != *first.world_size) {
      refuse(timeline.source + " is of a run of " + std::to_string(*timeline.world_size) +
             " ranks, " + first.source + " of " + std::to_string(*first.world_size));
    }
  }
  for (std::size_t t = 0; t < timelines.size() && t < alignment.offsets.size(); ++t) {
    if (std::llabs(alignment.offsets[t]) > kMaxClockOffset) {
      refuse(timelines[t].source + "'s clock would have to be moved by " +
             seconds(alignment.offsets[t]) + " to line its transfers up with " +
             timelines[0].source + "'s");
    }
  }
  // The GPU spans must form one overlapping run: sorted by start, each starts before the ones
  // before it ended.
  std::vector<std::size_t> order(timelines.size());
  for (std::size_t t = 0; t < order.size(); ++t) order[t] = t;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return timelines[a].gpu_start() < timelines[b].gpu_start();
  });
  TimeNs reach = INT64_MIN;
  std::size_t reached_by = order.empty() ? 0 : order[0];
  for (std::size_t t : order) {
    if (reach != INT64_MIN && timelines[t].gpu_start() > reach) {
      refuse(timelines[t].source + "'s GPU activity starts " +
             milliseconds(timelines[t].gpu_start() - reach) + " after " +
             timelines[reached_by].source + "'s ended (no overlap in time)");
    }
    if (timelines[t].gpu_end() > reach) {
      reach = timelines[t].gpu_end();
      reached_by = t;
    }
  }
}

}  // namespace dualpipe::trace
