#include "dualpipe/trace/timeline.h"

#include <algorithm>
#include <charconv>
#include <limits>
#include <map>
#include <stdexcept>
#include <tuple>
#include <utility>

#include "dualpipe/schedule/annotation.h"
#include "dualpipe/trace/intervals.h"

namespace dualpipe::trace {
namespace {

std::string trimmed(std::string text) {
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

// Kind of every activity, classifying each distinct kernel name once.
std::vector<KernelKind> classify_all(const ProfileTrace& trace,
                                     const KernelClassifier& classifier) {
  std::vector<std::optional<KernelKind>> by_name(trace.names.size());
  std::vector<KernelKind> kinds;
  kinds.reserve(trace.gpu_activities.size());
  for (const GpuActivity& activity : trace.gpu_activities) {
    if (activity.category == ActivityCategory::kMemcpy) {
      kinds.push_back(KernelKind::kMemcpy);
    } else if (activity.category == ActivityCategory::kMemset) {
      kinds.push_back(KernelKind::kMemset);
    } else {
      std::optional<KernelKind>& kind = by_name[activity.name];
      if (!kind) kind = classifier.classify(trace.names[activity.name]);
      kinds.push_back(*kind);
    }
  }
  return kinds;
}

// Where each activity of the trace went: its stream and its index among the stream's kernels.
struct KernelSlot {
  std::uint32_t stream = 0;
  std::uint32_t kernel = 0;
};

// Launch time of every correlation id the trace's runtime calls carry, sorted for lookup.
class LaunchTimes {
 public:
  explicit LaunchTimes(const ProfileTrace& trace) {
    by_correlation_.reserve(trace.launches.size());
    for (const RuntimeLaunch& launch : trace.launches) {
      by_correlation_.emplace_back(launch.correlation, launch.start);
    }
    std::sort(by_correlation_.begin(), by_correlation_.end());
  }
  TimeNs of(std::int64_t correlation) const {
    if (correlation < 0) return kUnknownLaunch;
    const auto it =
        std::lower_bound(by_correlation_.begin(), by_correlation_.end(),
                         std::make_pair(correlation, std::numeric_limits<TimeNs>::min()));
    return it != by_correlation_.end() && it->first == correlation ? it->second : kUnknownLaunch;
  }

 private:
  std::vector<std::pair<std::int64_t, TimeNs>> by_correlation_;
};

std::vector<StreamTimeline> group_by_stream(const ProfileTrace& trace,
                                            const std::vector<KernelKind>& kinds,
                                            std::vector<KernelSlot>& slots) {
  std::map<std::pair<TrackId, TrackId>, std::uint32_t> index;
  for (const GpuActivity& activity : trace.gpu_activities) {
    index.emplace(std::make_pair(activity.device, activity.stream), 0);
  }
  std::vector<StreamTimeline> result;
  for (auto& [key, position] : index) {
    position = static_cast<std::uint32_t>(result.size());
    result.emplace_back();
    result.back().device = key.first;
    result.back().stream = key.second;
  }
  const LaunchTimes launches(trace);
  slots.resize(trace.gpu_activities.size());
  for (std::size_t i = 0; i < trace.gpu_activities.size(); ++i) {
    const GpuActivity& activity = trace.gpu_activities[i];
    const std::uint32_t stream = index[{activity.device, activity.stream}];
    std::vector<TimelineKernel>& kernels = result[stream].kernels;
    slots[i] = {stream, static_cast<std::uint32_t>(kernels.size())};
    TimelineKernel kernel;
    kernel.start = activity.start;
    kernel.end = activity.end();
    kernel.launched = launches.of(activity.correlation);
    kernel.name = activity.name;
    kernel.kind = kinds[i];
    kernels.push_back(kernel);
  }
  const bool several_devices = result.size() > 1 && result.front().device != result.back().device;
  for (StreamTimeline& stream : result) {
    const std::pair<TrackId, TrackId> key{stream.device, stream.stream};
    const auto name = trace.thread_names.find(key);
    // A thread_name record wins; a textual tid ("stream 7") is its own name; else "stream <tid>".
    stream.label = name != trace.thread_names.end() && !trimmed(name->second).empty()
                       ? trimmed(name->second)
                   : key.second < 0 ? trace.id_text(key.second)
                                    : "stream " + trace.id_text(key.second);
    if (several_devices) {
      const auto label = trace.process_labels.find(key.first);
      stream.label = (label != trace.process_labels.end() ? label->second
                                                          : "GPU " + trace.id_text(key.first)) +
                     " " + stream.label;
    }
  }
  return result;
}

AnnotationWindow describe(const ProfileTrace& trace, const CpuAnnotation& annotation) {
  AnnotationWindow window;
  window.name = trace.names[annotation.name];
  window.cpu_start = annotation.start;
  window.cpu_end = annotation.end();
  window.process = annotation.process;
  window.thread = annotation.thread;
  window.action = schedule::parse_annotation_label(window.name);
  window.kind = window.action                           ? AnnotationKind::kPipelineAction
                : schedule::is_phase_label(window.name) ? AnnotationKind::kPhase
                                                        : AnnotationKind::kOther;
  return window;
}

// Sets each annotation's nesting depth among the annotations of its thread.
void assign_depths(std::vector<AnnotationWindow>& annotations) {
  std::map<std::pair<TrackId, TrackId>, std::vector<TimeNs>> open_ends;
  for (AnnotationWindow& window : annotations) {
    std::vector<TimeNs>& ends = open_ends[{window.process, window.thread}];
    while (!ends.empty() && ends.back() <= window.cpu_start) ends.pop_back();
    window.depth = static_cast<int>(ends.size());
    ends.push_back(window.cpu_end);
  }
}

// How well an annotation names the work of the kernels it launched: pipeline actions best.
int naming_priority(AnnotationKind kind) {
  switch (kind) {
    case AnnotationKind::kPipelineAction: return 3;
    case AnnotationKind::kPhase: return 2;
    case AnnotationKind::kOther: break;
  }
  return 1;
}

// What an annotation says about the point-to-point kernel it launched.
struct PeerHint {
  CallKind kind = CallKind::kCollective;
  int peer = -1;
};

// "nccl:send 0->1", "nccl:recv 0<-1" (PyTorch's labels) and the toolkit's SEND_/RECV_ actions.
std::optional<PeerHint> peer_hint(const AnnotationWindow& window) {
  if (window.action && schedule::is_communication(window.action->op)) {
    const schedule::Op op = window.action->op;
    const bool send = op == schedule::Op::kSendF || op == schedule::Op::kSendB;
    return PeerHint{send ? CallKind::kSend : CallKind::kReceive, window.action->peer};
  }
  for (const auto& [prefix, arrow, kind] :
       {std::make_tuple("nccl:send ", "->", CallKind::kSend),
        std::make_tuple("nccl:recv ", "<-", CallKind::kReceive)}) {
    if (window.name.rfind(prefix, 0) != 0) continue;
    const std::size_t at = window.name.find(arrow);
    if (at == std::string::npos) return std::nullopt;
    int peer = -1;
    const char* begin = window.name.c_str() + at + 2;
    const char* end = window.name.c_str() + window.name.size();
    const auto [next, error] = std::from_chars(begin, end, peer);
    if (error != std::errc() || next != end || peer < 0) return std::nullopt;
    return PeerHint{kind, peer};
  }
  return std::nullopt;
}

// Joins each annotation to the GPU activities launched inside its CPU window; `kinds` holds the
// kind of each activity. Sets the kernels' owners, and collects the peer hints of communication
// kernels (indexed by activity).
void project_to_gpu(const ProfileTrace& trace, const std::vector<KernelKind>& kinds,
                    const std::vector<KernelSlot>& slots, RankTimeline& timeline,
                    std::vector<std::optional<PeerHint>>& hints) {
  std::vector<std::pair<std::int64_t, std::uint32_t>> by_correlation;
  for (std::size_t i = 0; i < trace.gpu_activities.size(); ++i) {
    const std::int64_t correlation = trace.gpu_activities[i].correlation;
    if (correlation >= 0) by_correlation.emplace_back(correlation, static_cast<std::uint32_t>(i));
  }
  std::sort(by_correlation.begin(), by_correlation.end());
  std::map<TrackId, std::vector<const RuntimeLaunch*>> launches_by_process;
  for (const RuntimeLaunch& launch : trace.launches) {
    launches_by_process[launch.process].push_back(&launch);
  }
  hints.assign(trace.gpu_activities.size(), std::nullopt);
  std::vector<Interval> intervals;
  std::vector<Interval> communication;
  for (std::size_t a = 0; a < timeline.annotations.size(); ++a) {
    AnnotationWindow& window = timeline.annotations[a];
    const auto process = launches_by_process.find(window.process);
    if (process == launches_by_process.end()) continue;
    const std::vector<const RuntimeLaunch*>& launches = process->second;
    auto launch =
        std::lower_bound(launches.begin(), launches.end(), window.cpu_start,
                         [](const RuntimeLaunch* l, TimeNs start) { return l->start < start; });
    const std::optional<PeerHint> hint = peer_hint(window);
    intervals.clear();
    communication.clear();
    for (; launch != launches.end() && (*launch)->start <= window.cpu_end; ++launch) {
      const auto match =
          std::equal_range(by_correlation.begin(), by_correlation.end(),
                           std::make_pair((*launch)->correlation, std::uint32_t{0}),
                           [](const auto& x, const auto& y) { return x.first < y.first; });
      for (auto it = match.first; it != match.second; ++it) {
        const GpuActivity& activity = trace.gpu_activities[it->second];
        intervals.push_back({activity.start, activity.end()});
        TimelineKernel& kernel =
            timeline.streams[slots[it->second].stream].kernels[slots[it->second].kernel];
        // Annotations come outer first: an inner one of at least the same priority names it.
        if (kernel.owner < 0 || naming_priority(window.kind) >=
                                    naming_priority(timeline.annotations[kernel.owner].kind)) {
          kernel.owner = static_cast<std::int32_t>(a);
        }
        if (kinds[it->second] == KernelKind::kCommunication) {
          communication.push_back(intervals.back());
          if (hint) hints[it->second] = hint;
        }
      }
    }
    if (intervals.empty()) continue;
    window.kernels = static_cast<int>(intervals.size());
    window.gpu_start = std::numeric_limits<TimeNs>::max();
    window.gpu_end = std::numeric_limits<TimeNs>::min();
    for (const Interval& interval : intervals) {
      window.gpu_start = std::min(window.gpu_start, interval.start);
      window.gpu_end = std::max(window.gpu_end, interval.end);
    }
    window.gpu_busy = total_length(union_of(intervals));
    window.communication = union_of(communication);
  }
}

// One call per communication kernel, from its args, else from its annotations' hint.
void collect_calls(const ProfileTrace& trace, const std::vector<KernelKind>& kinds,
                   const std::vector<KernelSlot>& slots,
                   const std::vector<std::optional<PeerHint>>& hints, RankTimeline& timeline) {
  for (std::size_t i = 0; i < trace.gpu_activities.size(); ++i) {
    if (kinds[i] != KernelKind::kCommunication) continue;
    const GpuActivity& activity = trace.gpu_activities[i];
    CommunicationCall call;
    call.stream = slots[i].stream;
    call.kernel = slots[i].kernel;
    call.collective = trace.names[activity.name];
    if (activity.communication >= 0) {
      const CommunicationArgs& args =
          trace.communication_args[static_cast<std::size_t>(activity.communication)];
      call.collective = args.collective;
      call.group = args.group;
      call.members = args.group_ranks;
      call.elements = args.elements;
      call.kind = args.collective == "send"   ? CallKind::kSend
                  : args.collective == "recv" ? CallKind::kReceive
                                              : CallKind::kCollective;
      if (call.kind != CallKind::kCollective && args.peer >= 0) {
        const auto peer = static_cast<std::size_t>(args.peer);
        call.peer = peer < call.members.size() ? call.members[peer] : args.peer;
      }
    }
    if (call.kind == CallKind::kCollective && call.group.empty() && hints[i]) {
      call.kind = hints[i]->kind;
      call.peer = hints[i]->peer;
      call.collective = call.kind == CallKind::kSend ? "send" : "recv";
    }
    if (call.kind != CallKind::kCollective && call.peer < 0) call.kind = CallKind::kCollective;
    timeline.streams[call.stream].kernels[call.kernel].call =
        static_cast<std::int32_t>(timeline.calls.size());
    timeline.calls.push_back(std::move(call));
  }
}

}  // namespace

TimeNs RankTimeline::gpu_start() const {
  TimeNs start = std::numeric_limits<TimeNs>::max();
  for (const StreamTimeline& stream : streams) {
    if (!stream.kernels.empty()) start = std::min(start, stream.kernels.front().start);
  }
  return start;
}

TimeNs RankTimeline::gpu_end() const {
  TimeNs end = std::numeric_limits<TimeNs>::min();
  for (const StreamTimeline& stream : streams) {
    for (const TimelineKernel& kernel : stream.kernels) end = std::max(end, kernel.end);
  }
  return end;
}

RankTimeline build_timeline(ProfileTrace trace, int rank, const KernelClassifier& classifier) {
  RankTimeline timeline;
  timeline.source = trace.source;
  timeline.rank = rank;
  timeline.world_size = trace.world_size;
  const std::vector<KernelKind> kinds = classify_all(trace, classifier);
  std::vector<KernelSlot> slots;
  timeline.streams = group_by_stream(trace, kinds, slots);
  timeline.annotations.reserve(trace.annotations.size());
  for (const CpuAnnotation& annotation : trace.annotations) {
    timeline.annotations.push_back(describe(trace, annotation));
  }
  // Outer ranges first when two start together, so that depths nest.
  std::stable_sort(timeline.annotations.begin(), timeline.annotations.end(),
                   [](const AnnotationWindow& a, const AnnotationWindow& b) {
                     return a.cpu_start != b.cpu_start ? a.cpu_start < b.cpu_start
                                                       : a.cpu_end > b.cpu_end;
                   });
  assign_depths(timeline.annotations);
  std::vector<std::optional<PeerHint>> hints;
  project_to_gpu(trace, kinds, slots, timeline, hints);
  collect_calls(trace, kinds, slots, hints, timeline);
  timeline.kernel_names = std::move(trace.names);
  return timeline;
}

void shift_timeline(RankTimeline& timeline, TimeNs offset) {
  for (StreamTimeline& stream : timeline.streams) {
    for (TimelineKernel& kernel : stream.kernels) {
      kernel.start += offset;
      kernel.end += offset;
      if (kernel.launched != kUnknownLaunch) kernel.launched += offset;
    }
  }
  for (AnnotationWindow& window : timeline.annotations) {
    window.cpu_start += offset;
    window.cpu_end += offset;
    window.gpu_start += offset;
    window.gpu_end += offset;
    for (Interval& interval : window.communication) {
      interval.start += offset;
      interval.end += offset;
    }
  }
}

std::vector<RankTimeline> build_timelines(std::vector<ProfileTrace> traces,
                                          const KernelClassifier& classifier) {
  std::vector<RankTimeline> timelines;
  for (std::size_t i = 0; i < traces.size(); ++i) {
    const int rank = traces[i].rank.value_or(static_cast<int>(i));
    timelines.push_back(build_timeline(std::move(traces[i]), rank, classifier));
  }
  return sorted_by_rank(std::move(timelines));
}

std::vector<RankTimeline> sorted_by_rank(std::vector<RankTimeline> timelines) {
  std::map<int, std::string> claimed;
  for (const RankTimeline& timeline : timelines) {
    const auto [it, inserted] = claimed.emplace(timeline.rank, timeline.source);
    if (!inserted) {
      throw std::invalid_argument(timeline.source + ": rank " + std::to_string(timeline.rank) +
                                  " is also the rank of " + it->second +
                                  " (give one trace per rank)");
    }
  }
  std::sort(timelines.begin(), timelines.end(),
            [](const RankTimeline& a, const RankTimeline& b) { return a.rank < b.rank; });
  return timelines;
}

TimeNs earliest_gpu_start(const std::vector<RankTimeline>& timelines) {
  TimeNs start = std::numeric_limits<TimeNs>::max();
  for (const RankTimeline& timeline : timelines) start = std::min(start, timeline.gpu_start());
  return timelines.empty() ? 0 : start;
}

}  // namespace dualpipe::trace
