#include "dualpipe/render/timeline_layout.h"

#include <algorithm>
#include <map>

namespace dualpipe::render {
namespace {

using trace::AnnotationKind;
using trace::AnnotationWindow;
using trace::RankTimeline;
using trace::TimeNs;

constexpr int kMaxAnnotationDepth = 4;  // deeper annotations share the last lane

// Builds the layout rank by rank; keeps the label table and the window in one place.
class LayoutBuilder {
 public:
  LayoutBuilder(TimeNs origin, const trace::TimeWindow& window, bool several_ranks)
      : origin_(origin), window_(window), several_ranks_(several_ranks) {}

  void add_rank(const std::vector<RankTimeline>& timelines, std::size_t t,
                const trace::StepAnalysis* analysis) {
    const RankTimeline& timeline = timelines[t];
    rank_ = timeline.rank;
    add_annotation_lanes(timeline);
    for (const trace::StreamTimeline& stream : timeline.streams) add_stream_lane(timeline, stream);
    add_overlap_lane(timeline);
    if (analysis != nullptr) {
      add_attribution_lane(timelines, t, analysis->ranks[t]);
      add_critical_path_lane(static_cast<int>(t), analysis->path);
    }
    const trace::RankStatistics stats = trace::compute_statistics(timeline, window_);
    layout_.captions.push_back(
        {timeline.rank, timeline.source, stats.comm_ms, stats.overlap_pct, stats.exposed_comm_ms});
  }

  TimelineLayout finish(TimeNs end) {
    layout_.origin_us = static_cast<double>(origin_) / 1e3;
    layout_.start_ms = window_ ? ms(window_->start) : 0.0;
    layout_.end_ms = window_ ? ms(window_->end) : ms(end);
    return std::move(layout_);
  }

 private:
  double ms(TimeNs t) const { return trace::to_ms(t - origin_); }

  std::uint32_t label(const std::string& text) {
    const auto [it, inserted] =
        label_ids_.emplace(text, static_cast<std::uint32_t>(layout_.labels.size()));
    if (inserted) layout_.labels.push_back(text);
    return it->second;
  }

  TimelineLane& lane(const std::string& title, LaneKind kind) {
    const std::string full =
        several_ranks_ ? "rank " + std::to_string(rank_) + " · " + title : title;
    for (TimelineLane& existing : pending_) {
      if (existing.title == full) return existing;
    }
    pending_.push_back({full, rank_, kind, {}});
    return pending_.back();
  }

  // Adds [start, end) clipped to the window; zero-length bars inside the window are kept.
  void add_bar(TimelineLane& lane, TimeNs start, TimeNs end, BarKind kind, std::uint32_t name) {
    if (window_) {
      if (end < window_->start || start > window_->end) return;
      start = std::max(start, window_->start);
      end = std::min(end, window_->end);
    }
    lane.bars.push_back({ms(start), ms(end), kind, name});
  }

  void add_annotation_lanes(const RankTimeline& timeline) {
    pending_.clear();
    for (const AnnotationWindow& a : timeline.annotations) {
      if (!a.on_gpu()) continue;
      if (a.kind == AnnotationKind::kPhase) {
        // "attn(F)": one lane per pass, so F and B chunks running together sit one above the other.
        const std::string pass = a.name.substr(a.name.size() - 2, 1);
        add_bar(lane("phases (" + pass + ")", LaneKind::kPhases), a.gpu_start, a.gpu_end,
                BarKind::kPhase, label(a.name));
      } else if (a.kind == AnnotationKind::kPipelineAction) {
        const bool communication = schedule::is_communication(a.action->op);
        add_bar(lane(communication ? "pipeline communication" : "pipeline actions",
                     LaneKind::kPipelineActions),
                a.gpu_start, a.gpu_end, BarKind::kPipelineAction, label(a.name));
      } else {
        const int depth = std::min(a.depth, kMaxAnnotationDepth - 1);
        add_bar(lane(depth == 0 ? "annotations" : "annotations (" + std::to_string(depth + 1) + ")",
                     LaneKind::kAnnotations),
                a.gpu_start, a.gpu_end, BarKind::kAnnotation, label(a.name));
      }
    }
    // Phase lanes in pass order F, B, W; then pipeline lanes; then annotation depths.
    std::stable_sort(
        pending_.begin(), pending_.end(),
        [](const TimelineLane& a, const TimelineLane& b) { return lane_order(a) < lane_order(b); });
    for (TimelineLane& pending : pending_) {
      if (pending.bars.empty()) continue;
      sort_bars(pending);
      layout_.lanes.push_back(std::move(pending));
    }
    pending_.clear();
  }

  static int lane_order(const TimelineLane& lane) {
    if (lane.kind != LaneKind::kPhases) return static_cast<int>(lane.kind) * 10;
    const char pass = lane.title[lane.title.size() - 2];
    return pass == 'F' ? 0 : pass == 'B' ? 1 : 2;
  }

  static void sort_bars(TimelineLane& lane) {
    std::stable_sort(
        lane.bars.begin(), lane.bars.end(),
        [](const TimelineBar& a, const TimelineBar& b) { return a.start_ms < b.start_ms; });
  }

  void add_stream_lane(const RankTimeline& timeline, const trace::StreamTimeline& stream) {
    TimelineLane& added = lane(stream.label, LaneKind::kStream);
    for (const trace::TimelineKernel& kernel : stream.kernels) {
      const BarKind kind = kernel.kind == trace::KernelKind::kCompute ? BarKind::kCompute
                           : kernel.kind == trace::KernelKind::kCommunication
                               ? BarKind::kCommunication
                               : BarKind::kMemory;
      add_bar(added, kernel.start, kernel.end, kind, label(timeline.kernel_names[kernel.name]));
    }
    layout_.lanes.push_back(std::move(added));
    pending_.clear();
  }

  void add_overlap_lane(const RankTimeline& timeline) {
    const trace::OverlapIntervals overlap = trace::overlap_intervals(timeline, window_);
    TimelineLane& added = lane("communication overlap", LaneKind::kOverlap);
    const std::uint32_t hidden = label("communication under compute");
    const std::uint32_t exposed = label("exposed communication");
    for (const trace::Interval& i : overlap.hidden) {
      add_bar(added, i.start, i.end, BarKind::kHiddenComm, hidden);
    }
    for (const trace::Interval& i : overlap.exposed) {
      add_bar(added, i.start, i.end, BarKind::kExposedComm, exposed);
    }
    sort_bars(added);
    if (!added.bars.empty()) layout_.lanes.push_back(std::move(added));
    pending_.clear();
  }

  void add_attribution_lane(const std::vector<RankTimeline>& timelines, std::size_t t,
                            const trace::RankAttribution& attribution) {
    TimelineLane& added = lane("where the time went", LaneKind::kAttribution);
    for (const trace::TimeSegment& segment : attribution.segments) {
      add_bar(added, segment.start, segment.end, attribution_kind(segment.category),
              label(trace::describe_segment(timelines, static_cast<int>(t), segment)));
    }
    if (!added.bars.empty()) layout_.lanes.push_back(std::move(added));
    pending_.clear();
  }

  void add_critical_path_lane(int t, const trace::CriticalPath& path) {
    TimelineLane& added = lane("critical path", LaneKind::kCriticalPath);
    for (const trace::PathStep& step : path.steps) {
      if (step.timeline == t) {
        add_bar(added, step.start, step.end, BarKind::kCriticalPath, label(step.what));
      }
    }
    if (!added.bars.empty()) layout_.lanes.push_back(std::move(added));
    pending_.clear();
  }

  static BarKind attribution_kind(trace::TimeCategory category) {
    switch (category) {
      case trace::TimeCategory::kCompute: return BarKind::kCompute;
      case trace::TimeCategory::kTransfer: return BarKind::kTransfer;
      case trace::TimeCategory::kWait: return BarKind::kWait;
      case trace::TimeCategory::kHostGap: return BarKind::kHostGap;
      case trace::TimeCategory::kOther: break;
    }
    return BarKind::kOtherTime;
  }

  TimeNs origin_;
  trace::TimeWindow window_;
  bool several_ranks_;
  int rank_ = 0;
  TimelineLayout layout_;
  std::vector<TimelineLane> pending_;  // lanes of the rank being built
  std::map<std::string, std::uint32_t> label_ids_;
};

}  // namespace

TimelineLayout layout_timelines(const std::vector<RankTimeline>& timelines, TimeNs origin,
                                const trace::TimeWindow& window,
                                const trace::StepAnalysis* analysis) {
  LayoutBuilder builder(origin, window, timelines.size() > 1);
  TimeNs end = origin;
  for (std::size_t t = 0; t < timelines.size(); ++t) {
    builder.add_rank(timelines, t, analysis);
    end = std::max(end, timelines[t].gpu_end());
  }
  return builder.finish(end);
}

const char* bar_kind_name(BarKind kind) {
  switch (kind) {
    case BarKind::kCompute: return "compute";
    case BarKind::kCommunication: return "communication";
    case BarKind::kMemory: return "memcpy/memset";
    case BarKind::kPhase: return "phase";
    case BarKind::kPipelineAction: return "pipeline action";
    case BarKind::kAnnotation: return "annotation";
    case BarKind::kHiddenComm: return "communication under compute";
    case BarKind::kExposedComm: return "exposed communication";
    case BarKind::kTransfer: return "transfer";
    case BarKind::kWait: return "waiting for a peer";
    case BarKind::kHostGap: return "host gap";
    case BarKind::kOtherTime: return "other";
    case BarKind::kCriticalPath: return "critical path";
  }
  return "other";
}

std::vector<LegendEntry> timeline_legend() {
  return {{"compute kernel", bar_colour(BarKind::kCompute, "")},
          {"communication kernel", bar_colour(BarKind::kCommunication, "")},
          {"memcpy / memset", bar_colour(BarKind::kMemory, "")},
          {"communication under compute", bar_colour(BarKind::kHiddenComm, "")},
          {"exposed communication (also shaded)", bar_colour(BarKind::kExposedComm, "")},
          {"attn / mlp phase", bar_colour(BarKind::kPhase, "attn")},
          {"dispatch / combine phase", bar_colour(BarKind::kPhase, "dispatch")},
          {"transfer", bar_colour(BarKind::kTransfer, "")},
          {"waiting for a peer", bar_colour(BarKind::kWait, "")},
          {"host gap", bar_colour(BarKind::kHostGap, "")},
          {"critical path", bar_colour(BarKind::kCriticalPath, "")}};
}

std::string bar_colour(BarKind kind, const std::string& label) {
  switch (kind) {
    case BarKind::kCompute: return "#4e79a7";
    case BarKind::kCommunication: return "#f28e2b";
    case BarKind::kMemory: return "#bab0ac";
    case BarKind::kAnnotation: return "#d9d9d9";
    case BarKind::kHiddenComm: return "#59a14f";
    case BarKind::kExposedComm: return "#e15759";
    case BarKind::kTransfer: return "#f28e2b";
    case BarKind::kWait: return "#b07aa1";
    case BarKind::kHostGap: return "#edc948";
    case BarKind::kOtherTime: return "#bab0ac";
    case BarKind::kCriticalPath: return "#d62728";
    case BarKind::kPhase:
      if (label.rfind("attn", 0) == 0) return "#9ecae1";
      if (label.rfind("mlp", 0) == 0) return "#6b9fd1";
      if (label.rfind("dispatch", 0) == 0) return "#fdb863";
      if (label.rfind("combine", 0) == 0) return "#f1883a";
      return "#c7c7c7";
    case BarKind::kPipelineAction: {
      const std::size_t colon = label.find(':');
      const std::string op = label.substr(colon + 1, label.find(' ') - colon - 1);
      if (op == "F") return "#f4a261";
      if (op == "B" || op == "I") return "#8ab17d";
      if (op == "W") return "#6c9bd2";
      if (op == "FB") return "#c39bd3";
      return "#a0a0a0";
    }
  }
  return "#c7c7c7";
}

}  // namespace dualpipe::render
