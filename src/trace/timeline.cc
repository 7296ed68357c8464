#include "dualpipe/trace/timeline.h"

#include <algorithm>
#include <limits>
#include <map>
#include <stdexcept>
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

std::vector<StreamTimeline> group_by_stream(const ProfileTrace& trace,
                                            const std::vector<KernelKind>& kinds) {
  std::map<std::pair<TrackId, TrackId>, StreamTimeline> streams;
  for (std::size_t i = 0; i < trace.gpu_activities.size(); ++i) {
    const GpuActivity& activity = trace.gpu_activities[i];
    StreamTimeline& stream = streams[{activity.device, activity.stream}];
    stream.kernels.push_back({activity.start, activity.end(), activity.name, kinds[i]});
  }
  bool several_devices = false;
  for (const auto& [key, stream] : streams) {
    several_devices |= key.first != streams.begin()->first.first;
  }
  std::vector<StreamTimeline> result;
  for (auto& [key, stream] : streams) {
    stream.device = key.first;
    stream.stream = key.second;
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
    result.push_back(std::move(stream));
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

// Joins each annotation to the GPU activities launched inside its CPU window; `kinds` holds the
// kind of each activity.
void project_to_gpu(const ProfileTrace& trace, const std::vector<KernelKind>& kinds,
                    std::vector<AnnotationWindow>& annotations) {
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
  std::vector<Interval> intervals;
  std::vector<Interval> communication;
  for (AnnotationWindow& window : annotations) {
    const auto process = launches_by_process.find(window.process);
    if (process == launches_by_process.end()) continue;
    const std::vector<const RuntimeLaunch*>& launches = process->second;
    auto launch =
        std::lower_bound(launches.begin(), launches.end(), window.cpu_start,
                         [](const RuntimeLaunch* l, TimeNs start) { return l->start < start; });
    intervals.clear();
    communication.clear();
    for (; launch != launches.end() && (*launch)->start <= window.cpu_end; ++launch) {
      const auto match =
          std::equal_range(by_correlation.begin(), by_correlation.end(),
                           std::make_pair((*launch)->correlation, std::uint32_t{0}),
                           [](const auto& a, const auto& b) { return a.first < b.first; });
      for (auto it = match.first; it != match.second; ++it) {
        const GpuActivity& activity = trace.gpu_activities[it->second];
        intervals.push_back({activity.start, activity.end()});
        if (kinds[it->second] == KernelKind::kCommunication)
          communication.push_back(intervals.back());
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
  const std::vector<KernelKind> kinds = classify_all(trace, classifier);
  timeline.streams = group_by_stream(trace, kinds);
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
  project_to_gpu(trace, kinds, timeline.annotations);
  timeline.kernel_names = std::move(trace.names);
  return timeline;
}

std::vector<RankTimeline> build_timelines(std::vector<ProfileTrace> traces,
                                          const KernelClassifier& classifier) {
  std::vector<RankTimeline> timelines;
  std::map<int, std::string> claimed;
  for (std::size_t i = 0; i < traces.size(); ++i) {
    const int rank = traces[i].rank.value_or(static_cast<int>(i));
    const auto [it, inserted] = claimed.emplace(rank, traces[i].source);
    if (!inserted) {
      throw std::invalid_argument(traces[i].source + ": rank " + std::to_string(rank) +
                                  " is also the rank of " + it->second +
                                  " (give one trace per rank)");
    }
    timelines.push_back(build_timeline(std::move(traces[i]), rank, classifier));
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
