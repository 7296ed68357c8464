#include "dualpipe/trace/time_attribution.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "dualpipe/schedule/annotation.h"

namespace dualpipe::trace {
namespace {

// Busy kinds in order of precedence: the lowest level running names the instant.
enum Level { kComputeLevel, kTransferLevel, kWaitLevel, kMemoryLevel, kUnmatchedLevel, kLevels };

// One kernel, or the waiting or transfer part of a communication kernel.
struct Piece {
  TimeNs start = 0;
  TimeNs end = 0;
  Level level = kComputeLevel;
  int peer = -1;
  std::int32_t stream = 0;
  std::int32_t kernel = 0;
};

// A kernel of any stream, for finding what runs next after an idle time.
struct NextKernel {
  TimeNs start = 0;
  TimeNs first_launch = kUnknownLaunch;  // earliest launch of this kernel and every later one
  std::int32_t stream = 0;
  std::int32_t kernel = 0;
};

TimeSegment busy_segment(const Piece& piece) {
  TimeSegment segment;
  segment.stream = piece.stream;
  segment.kernel = piece.kernel;
  switch (piece.level) {
    case kComputeLevel: segment.category = TimeCategory::kCompute; break;
    case kTransferLevel: segment.category = TimeCategory::kTransfer; break;
    case kWaitLevel:
      segment.category = TimeCategory::kWait;
      segment.peer = piece.peer;
      break;
    case kMemoryLevel:
      segment.category = TimeCategory::kOther;
      segment.cause = OtherCause::kMemory;
      break;
    default:
      segment.category = TimeCategory::kOther;
      segment.cause = OtherCause::kUnmatchedCommunication;
  }
  return segment;
}

// Attributes one rank's span.
class RankAttributor {
 public:
  RankAttributor(const RankTimeline& timeline, const std::vector<CallSplit>& splits, int self,
                 Interval span)
      : timeline_(timeline), splits_(splits), self_(self) {
    result_.span = span;
  }

  RankAttribution run() {
    for (std::size_t a = 0; a < timeline_.annotations.size(); ++a) {
      if (timeline_.annotations[a].kind != AnnotationKind::kOther) {
        actions_.push_back(static_cast<std::int32_t>(a));
      }
    }
    collect_pieces();
    sweep();
    for (const TimeSegment& segment : result_.segments) {
      result_.by_category[static_cast<std::size_t>(segment.category)] += segment.length();
      result_.other_by_cause[static_cast<std::size_t>(segment.cause)] += segment.length();
    }
    result_.other_by_cause[static_cast<std::size_t>(OtherCause::kNone)] = 0;
    result_.wait_kernels = total_length(clip(union_of(std::move(waits_)), result_.span));
    result_.transfer_kernels = total_length(clip(union_of(std::move(transfers_)), result_.span));
    return std::move(result_);
  }

 private:
  void collect_pieces() {
    for (std::size_t s = 0; s < timeline_.streams.size(); ++s) {
      const std::vector<TimelineKernel>& kernels = timeline_.streams[s].kernels;
      for (std::size_t k = 0; k < kernels.size(); ++k) {
        const TimelineKernel& kernel = kernels[k];
        const auto stream = static_cast<std::int32_t>(s);
        const auto index = static_cast<std::int32_t>(k);
        next_.push_back({kernel.start, kernel.launched, stream, index});
        last_end_ = std::max(last_end_, kernel.end);
        any_launch_ |= kernel.launched != kUnknownLaunch;
        switch (kernel.kind) {
          case KernelKind::kCompute:
            pieces_.push_back({kernel.start, kernel.end, kComputeLevel, -1, stream, index});
            break;
          case KernelKind::kMemcpy:
          case KernelKind::kMemset:
            pieces_.push_back({kernel.start, kernel.end, kMemoryLevel, -1, stream, index});
            break;
          case KernelKind::kCommunication: add_communication(kernel, stream, index); break;
        }
      }
    }
    std::sort(next_.begin(), next_.end(),
              [](const NextKernel& a, const NextKernel& b) { return a.start < b.start; });
    for (std::size_t i = next_.size(); i-- > 1;) {
      next_[i - 1].first_launch = std::min(next_[i - 1].first_launch, next_[i].first_launch);
    }
  }

  void add_communication(const TimelineKernel& kernel, std::int32_t stream, std::int32_t index) {
    const CallSplit* split =
        kernel.call >= 0 ? &splits_[static_cast<std::size_t>(kernel.call)] : nullptr;
    if (split == nullptr || !split->matched) {
      pieces_.push_back({kernel.start, kernel.end, kUnmatchedLevel, -1, stream, index});
      return;
    }
    // Waits until the last member came, unless it came last itself or finished before then.
    const bool waits =
        split->waited_for != self_ && split->ready > kernel.start && split->ready < kernel.end;
    const TimeNs ready = waits ? split->ready : kernel.start;
    if (waits) {
      pieces_.push_back({kernel.start, ready, kWaitLevel, split->waited_for, stream, index});
      waits_.push_back({kernel.start, ready});
    }
    pieces_.push_back({ready, kernel.end, kTransferLevel, -1, stream, index});
    transfers_.push_back({ready, kernel.end});
  }

  // Walks the span from event to event, naming each stretch by what runs (or why nothing does).
  void sweep() {
    std::vector<std::pair<TimeNs, std::int64_t>> events;  // (time, +(i+1) start / -(i+1) end)
    events.reserve(2 * pieces_.size());
    for (std::size_t i = 0; i < pieces_.size(); ++i) {
      if (pieces_[i].end <= pieces_[i].start) continue;
      const auto id = static_cast<std::int64_t>(i) + 1;
      events.emplace_back(pieces_[i].start, id);
      events.emplace_back(pieces_[i].end, -id);
    }
    std::sort(events.begin(), events.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    std::array<std::set<std::pair<TimeNs, std::size_t>>, kLevels> running;
    const Interval span = result_.span;
    TimeNs cursor = span.start;
    for (std::size_t e = 0; e < events.size() && cursor < span.end;) {
      const TimeNs time = events[e].first;
      if (time > cursor) {
        emit(cursor, std::min(time, span.end), running);
        cursor = time;
      }
      for (; e < events.size() && events[e].first == time; ++e) {
        const std::int64_t id = events[e].second;
        const std::size_t i = static_cast<std::size_t>(id > 0 ? id : -id) - 1;
        auto& level = running[static_cast<std::size_t>(pieces_[i].level)];
        if (id > 0) {
          level.emplace(pieces_[i].start, i);
        } else {
          level.erase({pieces_[i].start, i});
        }
      }
    }
    if (cursor < span.end) emit(cursor, span.end, running);
  }

  void emit(TimeNs from, TimeNs to,
            const std::array<std::set<std::pair<TimeNs, std::size_t>>, kLevels>& running) {
    from = std::max(from, result_.span.start);
    if (to <= from) return;
    for (const auto& level : running) {
      if (level.empty()) continue;
      TimeSegment segment = busy_segment(pieces_[level.begin()->second]);
      segment.start = from;
      segment.end = to;
      append(segment);
      return;
    }
    emit_idle(from, to);
  }

  // GPU idle in [from, to): host gap until the next work's first launch, queued after it.
  void emit_idle(TimeNs from, TimeNs to) {
    TimeSegment segment;
    segment.category = TimeCategory::kOther;
    if (from >= last_end_) {
      segment.cause = OtherCause::kAfterLastKernel;
      append_part(segment, from, to);
      return;
    }
    const auto next = std::lower_bound(next_.begin(), next_.end(), to,
                                       [](const NextKernel& k, TimeNs t) { return k.start < t; });
    if (next != next_.end()) {
      segment.stream = next->stream;
      segment.kernel = next->kernel;
    }
    if (!any_launch_) {
      segment.cause = OtherCause::kUnknownIdle;
      append_part(segment, from, to);
      return;
    }
    const TimeNs launched = next != next_.end() ? next->first_launch : kUnknownLaunch;
    const TimeNs queued_from = std::clamp(launched, from, to);
    TimeSegment gap = segment;
    gap.category = TimeCategory::kHostGap;
    gap.host_action = host_action_at(from + (queued_from - from) / 2);
    append_part(gap, from, queued_from);
    segment.cause = OtherCause::kQueued;
    append_part(segment, queued_from, to);
  }

  // The innermost pipeline action or phase whose CPU window holds `time`; -1 when none does.
  std::int32_t host_action_at(TimeNs time) const {
    constexpr int kLookBack = 8;  // actions nest shallowly: the holder starts shortly before
    auto it =
        std::upper_bound(actions_.begin(), actions_.end(), time, [this](TimeNs t, std::int32_t a) {
          return t < timeline_.annotations[static_cast<std::size_t>(a)].cpu_start;
        });
    for (int looked = 0; it != actions_.begin() && looked < kLookBack; ++looked) {
      --it;
      if (timeline_.annotations[static_cast<std::size_t>(*it)].cpu_end > time) return *it;
    }
    return -1;
  }

  void append_part(TimeSegment segment, TimeNs from, TimeNs to) {
    if (to <= from) return;
    segment.start = from;
    segment.end = to;
    append(segment);
  }

  void append(const TimeSegment& segment) {
    if (!result_.segments.empty()) {
      TimeSegment& last = result_.segments.back();
      if (last.end == segment.start && last.category == segment.category &&
          last.cause == segment.cause && last.peer == segment.peer &&
          last.stream == segment.stream && last.kernel == segment.kernel &&
          last.host_action == segment.host_action) {
        last.end = segment.end;
        return;
      }
    }
    result_.segments.push_back(segment);
  }

  const RankTimeline& timeline_;
  const std::vector<CallSplit>& splits_;
  int self_;
  RankAttribution result_;
  std::vector<Piece> pieces_;
  std::vector<std::int32_t> actions_;  // annotations that are pipeline actions or phases
  std::vector<NextKernel> next_;
  std::vector<Interval> waits_;
  std::vector<Interval> transfers_;
  TimeNs last_end_ = INT64_MIN;
  bool any_launch_ = false;
};

// Adds, for every wait of `waiter`, what the peer did meanwhile.
void describe_waits(const std::vector<RankTimeline>& timelines,
                    std::vector<RankAttribution>& attributions, std::size_t waiter) {
  std::map<int, TimeNs> per_peer;
  std::map<int, std::map<std::string, TimeNs>> activity;
  for (const TimeSegment& wait : attributions[waiter].segments) {
    if (wait.category != TimeCategory::kWait || wait.peer < 0) continue;
    per_peer[wait.peer] += wait.length();
    const std::vector<TimeSegment>& peer =
        attributions[static_cast<std::size_t>(wait.peer)].segments;
    auto it = std::upper_bound(peer.begin(), peer.end(), wait.start,
                               [](TimeNs t, const TimeSegment& s) { return t < s.end; });
    for (; it != peer.end() && it->start < wait.end; ++it) {
      const TimeNs overlap = std::min(it->end, wait.end) - std::max(it->start, wait.start);
      if (overlap <= 0) continue;
      activity[wait.peer][describe_segment(timelines, wait.peer, *it)] += overlap;
    }
  }
  for (const auto& [peer, time] : per_peer) {
    PeerWait entry{peer, time, {}};
    for (const auto& [what, spent] : activity[peer]) entry.peer_activity.push_back({what, spent});
    std::sort(entry.peer_activity.begin(), entry.peer_activity.end(),
              [](const PeerActivity& a, const PeerActivity& b) { return a.time > b.time; });
    attributions[waiter].waits.push_back(std::move(entry));
  }
  std::sort(attributions[waiter].waits.begin(), attributions[waiter].waits.end(),
            [](const PeerWait& a, const PeerWait& b) { return a.time > b.time; });
}

}  // namespace

std::vector<RankAttribution> attribute_time(const std::vector<RankTimeline>& timelines,
                                            const std::vector<std::vector<CallSplit>>& splits,
                                            Interval span) {
  std::vector<RankAttribution> result;
  for (std::size_t t = 0; t < timelines.size(); ++t) {
    result.push_back(RankAttributor(timelines[t], splits[t], static_cast<int>(t), span).run());
  }
  for (std::size_t t = 0; t < timelines.size(); ++t) describe_waits(timelines, result, t);
  return result;
}

const char* category_name(TimeCategory category) {
  switch (category) {
    case TimeCategory::kCompute: return "compute";
    case TimeCategory::kTransfer: return "transfer";
    case TimeCategory::kWait: return "waiting";
    case TimeCategory::kHostGap: return "host gap";
    case TimeCategory::kOther: break;
  }
  return "other";
}

const char* other_cause_name(OtherCause cause) {
  switch (cause) {
    case OtherCause::kNone: return "";
    case OtherCause::kMemory: return "memcpy/memset";
    case OtherCause::kUnmatchedCommunication: return "unmatched communication";
    case OtherCause::kQueued: return "queued";
    case OtherCause::kAfterLastKernel: return "after its last kernel";
    case OtherCause::kUnknownIdle: return "idle (no launch times)";
  }
  return "";
}

namespace {

// An annotation's name without the toolkit's "dualpipe:" prefix.
std::string annotation_name(const RankTimeline& timeline, std::int32_t annotation) {
  const std::string& name = timeline.annotations[static_cast<std::size_t>(annotation)].name;
  const std::string prefix = schedule::kAnnotationPrefix;
  return name.rfind(prefix, 0) == 0 ? name.substr(prefix.size()) : name;
}

}  // namespace

std::string segment_work(const RankTimeline& timeline, const TimeSegment& segment) {
  if (segment.stream < 0 || segment.kernel < 0) return "";
  const TimelineKernel& kernel = timeline.streams[static_cast<std::size_t>(segment.stream)]
                                     .kernels[static_cast<std::size_t>(segment.kernel)];
  if (kernel.owner >= 0) return annotation_name(timeline, kernel.owner);
  constexpr std::size_t kLongest = 60;
  const std::string& name = timeline.kernel_names[kernel.name];
  return name.size() <= kLongest ? name : name.substr(0, kLongest - 3) + "...";
}

std::string describe_segment(const std::vector<RankTimeline>& timelines, int timeline,
                             const TimeSegment& segment) {
  const RankTimeline& rank = timelines[static_cast<std::size_t>(timeline)];
  if (segment.category == TimeCategory::kHostGap && segment.host_action >= 0) {
    return "host gap in " + annotation_name(rank, segment.host_action);
  }
  const std::string work = segment_work(rank, segment);
  switch (segment.category) {
    case TimeCategory::kCompute: return "compute " + work;
    case TimeCategory::kTransfer: return "transfer " + work;
    case TimeCategory::kWait:
      return "waiting for rank " +
             std::to_string(timelines[static_cast<std::size_t>(segment.peer)].rank) +
             (work.empty() ? "" : " in " + work);
    case TimeCategory::kHostGap: return work.empty() ? "host gap" : "host gap before " + work;
    case TimeCategory::kOther: break;
  }
  return std::string("other (") + other_cause_name(segment.cause) + ")";
}

}  // namespace dualpipe::trace
