#include "dualpipe/trace/summary_report.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>
#include <sstream>

#include "dualpipe/schedule/action.h"
#include "dualpipe/trace/json_text.h"
#include "dualpipe/trace/schedule_extraction.h"
#include "dualpipe/trace/step_report.h"

namespace dualpipe::trace {
namespace {

const char* kind_name(AnnotationKind kind) {
  switch (kind) {
    case AnnotationKind::kPipelineAction: return "pipeline_action";
    case AnnotationKind::kPhase: return "phase";
    case AnnotationKind::kOther: break;
  }
  return "other";
}

// Whether the annotation's GPU window (or CPU window, without GPU work) meets the window.
bool inside(const AnnotationWindow& a, const TimeWindow& window) {
  if (!window) return true;
  const TimeNs start = a.on_gpu() ? a.gpu_start : a.cpu_start;
  const TimeNs end = a.on_gpu() ? a.gpu_end : a.cpu_end;
  return end >= window->start && start <= window->end;
}

std::string ms(double value) { return json_number(value, 3); }

void annotation_json(std::ostringstream& out, const AnnotationWindow& a, TimeNs origin,
                     const AnnotationCommunication& communication) {
  out << "{\"name\": " << json_quote(a.name) << ", \"kind\": \"" << kind_name(a.kind)
      << "\", \"cpu_start_ms\": " << ms(to_ms(a.cpu_start - origin))
      << ", \"cpu_end_ms\": " << ms(to_ms(a.cpu_end - origin))
      << ", \"gpu_start_ms\": " << (a.on_gpu() ? ms(to_ms(a.gpu_start - origin)) : "null")
      << ", \"gpu_end_ms\": " << (a.on_gpu() ? ms(to_ms(a.gpu_end - origin)) : "null")
      << ", \"kernels\": " << a.kernels << ", \"gpu_busy_ms\": " << ms(to_ms(a.gpu_busy))
      << ", \"comm_ms\": " << ms(communication.comm_ms)
      << ", \"exposed_comm_ms\": " << ms(communication.exposed_ms) << "}";
}

void trace_json(std::ostringstream& out, const std::vector<RankTimeline>& timelines,
                const StepAnalysis& analysis, std::size_t t, TimeNs origin,
                const TimeWindow& window, const std::optional<schedule::TimedSchedule>& measured) {
  const RankTimeline& timeline = timelines[t];
  const RankStatistics s = compute_statistics(timeline, window);
  out << "{\"file\": " << json_quote(s.source) << ", \"rank\": " << s.rank
      << ", \"gpu_span_ms\": " << ms(s.gpu_span_ms) << ", \"gpu_busy_ms\": " << ms(s.gpu_busy_ms)
      << ", \"gpu_idle_ms\": " << ms(s.gpu_idle_ms) << ", \"compute_ms\": " << ms(s.compute_ms)
      << ", \"comm_ms\": " << ms(s.comm_ms) << ", \"memcpy_memset_ms\": " << ms(s.memcpy_memset_ms)
      << ", \"overlap_pct\": " << json_number(s.overlap_pct, 2)
      << ", \"exposed_comm_ms\": " << ms(s.exposed_comm_ms) << ",\n  \"streams\": [";
  for (std::size_t i = 0; i < s.streams.size(); ++i) {
    const StreamStatistics& stream = s.streams[i];
    out << (i ? ", " : "") << "{\"name\": " << json_quote(stream.label)
        << ", \"kernels\": " << stream.kernels << ", \"busy_ms\": " << ms(stream.busy_ms)
        << ", \"comm_ms\": " << ms(stream.communication_ms) << "}";
  }
  out << "],\n  \"annotations\": [";
  bool first = true;
  for (std::size_t i = 0; i < timeline.annotations.size(); ++i) {
    const AnnotationWindow& a = timeline.annotations[i];
    if (!inside(a, window)) continue;
    out << (first ? "\n    " : ",\n    ");
    first = false;
    annotation_json(out, a, origin, s.annotations[i]);
  }
  out << "],\n  \"schedule\": [";
  const auto rank = static_cast<std::size_t>(timeline.rank);
  if (measured && rank < measured->schedule.programs.size()) {
    const auto& program = measured->schedule.programs[rank];
    for (std::size_t i = 0; i < program.size(); ++i) {
      const schedule::ActionTiming& timing = measured->timing[rank][i];
      out << (i ? ",\n    " : "\n    ") << "{\"action\": " << json_quote(to_string(program[i]))
          << ", \"start_ms\": " << ms(timing.start) << ", \"duration_ms\": " << ms(timing.duration)
          << "}";
    }
  }
  out << "],\n  " << rank_step_json(timelines, analysis, t) << "}";
}

std::string fixed(double value, int decimals = 3) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
  return buffer;
}

// The annotations (summed by name) whose communication ran most exposed, longest first: pipeline
// actions and phases when they have any (outer ranges such as ProfilerStep#1 would repeat them).
std::string most_exposed(const RankTimeline& timeline, const RankStatistics& s,
                         const TimeWindow& window) {
  constexpr std::size_t kListed = 3;
  std::map<std::string, double> exposed;
  std::map<std::string, double> exposed_elsewhere;
  for (std::size_t i = 0; i < timeline.annotations.size(); ++i) {
    const AnnotationWindow& a = timeline.annotations[i];
    if (!inside(a, window) || s.annotations[i].exposed_ms <= 0) continue;
    (a.kind == AnnotationKind::kOther ? exposed_elsewhere : exposed)[a.name] +=
        s.annotations[i].exposed_ms;
  }
  if (exposed.empty()) exposed = std::move(exposed_elsewhere);
  std::vector<std::pair<std::string, double>> sorted(exposed.begin(), exposed.end());
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  std::string line;
  for (std::size_t i = 0; i < sorted.size() && i < kListed; ++i) {
    line += (i ? ", " : "") + sorted[i].first + " " + fixed(sorted[i].second) + " ms";
  }
  return line;
}

void trace_text(std::ostringstream& out, const std::vector<RankTimeline>& timelines,
                const StepAnalysis& analysis, std::size_t t, const TimeWindow& window) {
  const RankTimeline& timeline = timelines[t];
  const RankStatistics s = compute_statistics(timeline, window);
  const RankAttribution& a = analysis.ranks[t];
  const double busy_pct = s.gpu_span_ms > 0 ? 100.0 * s.gpu_busy_ms / s.gpu_span_ms : 0.0;
  out << "rank " << s.rank << "  " << s.source << "\n"
      << "  GPU span " << fixed(s.gpu_span_ms) << " ms, busy " << fixed(s.gpu_busy_ms) << " ms ("
      << fixed(busy_pct, 1) << "%), idle " << fixed(s.gpu_idle_ms) << " ms\n"
      << "  compute " << fixed(s.compute_ms) << " ms, communication " << fixed(s.comm_ms)
      << " ms (waiting " << fixed(to_ms(a.wait_kernels)) << " ms, transfer "
      << fixed(to_ms(a.transfer_kernels)) << " ms), memcpy/memset " << fixed(s.memcpy_memset_ms)
      << " ms\n"
      << "  overlap " << fixed(s.overlap_pct, 2) << "% of communication under compute ("
      << fixed(s.overlap_ms) << " ms), exposed communication " << fixed(s.exposed_comm_ms)
      << " ms\n";
  const std::string exposed = most_exposed(timeline, s, window);
  if (!exposed.empty()) out << "  most exposed: " << exposed << "\n";
  out << rank_step_text(timelines, analysis, t);
}

}  // namespace

std::string summary_json(const std::vector<RankTimeline>& timelines, const StepAnalysis& analysis,
                         TimeNs origin, const TimeWindow& window) {
  const auto measured = extract_schedule(timelines, origin);
  std::ostringstream out;
  out << "{\"time_origin_us\": " << json_number(static_cast<double>(origin) / 1e3, 3)
      << ", \"window_ms\": ";
  if (window) {
    out << "[" << ms(to_ms(window->start - origin)) << ", " << ms(to_ms(window->end - origin))
        << "]";
  } else {
    out << "null";
  }
  out << ",\n" << step_json(timelines, analysis, origin) << ",\n\"traces\": [";
  for (std::size_t t = 0; t < timelines.size(); ++t) {
    out << (t ? ",\n " : "\n ");
    trace_json(out, timelines, analysis, t, origin, window, measured);
  }
  out << "\n]}\n";
  return out.str();
}

std::string summary_text(const std::vector<RankTimeline>& timelines, const StepAnalysis& analysis,
                         TimeNs origin, const TimeWindow& window) {
  std::ostringstream out;
  if (window) {
    out << "window " << fixed(to_ms(window->start - origin)) << " .. "
        << fixed(to_ms(window->end - origin)) << " ms after the first GPU activity\n";
  }
  for (std::size_t t = 0; t < timelines.size(); ++t)
    trace_text(out, timelines, analysis, t, window);
  out << step_text(timelines, analysis, origin);
  return out.str();
}

}  // namespace dualpipe::trace
