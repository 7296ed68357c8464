#include "dualpipe/trace/summary_report.h"

#include <cstdio>
#include <map>
#include <optional>
#include <sstream>

#include "dualpipe/schedule/action.h"
#include "dualpipe/trace/json_text.h"
#include "dualpipe/trace/schedule_extraction.h"

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

void trace_json(std::ostringstream& out, const RankTimeline& timeline, TimeNs origin,
                const TimeWindow& window, const std::optional<schedule::TimedSchedule>& measured) {
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
      const schedule::ActionTiming& t = measured->timing[rank][i];
      out << (i ? ",\n    " : "\n    ") << "{\"action\": " << json_quote(to_string(program[i]))
          << ", \"start_ms\": " << ms(t.start) << ", \"duration_ms\": " << ms(t.duration) << "}";
    }
  }
  out << "]}";
}

std::string fixed(double value, int decimals = 3) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
  return buffer;
}

// Per annotation name: how often it ran, and its GPU busy, window, communication and exposed
// communication time in total.
struct AnnotationTotals {
  int count = 0;
  int on_gpu = 0;
  double gpu_window_ms = 0.0;
  double gpu_busy_ms = 0.0;
  double comm_ms = 0.0;
  double exposed_comm_ms = 0.0;
};

void trace_text(std::ostringstream& out, const RankTimeline& timeline, const TimeWindow& window) {
  const RankStatistics s = compute_statistics(timeline, window);
  const double busy_pct = s.gpu_span_ms > 0 ? 100.0 * s.gpu_busy_ms / s.gpu_span_ms : 0.0;
  out << "rank " << s.rank << "  " << s.source << "\n"
      << "  GPU span " << fixed(s.gpu_span_ms) << " ms, busy " << fixed(s.gpu_busy_ms) << " ms ("
      << fixed(busy_pct, 1) << "%), idle " << fixed(s.gpu_idle_ms) << " ms\n"
      << "  compute " << fixed(s.compute_ms) << " ms, communication " << fixed(s.comm_ms)
      << " ms, memcpy/memset " << fixed(s.memcpy_memset_ms) << " ms\n"
      << "  overlap " << fixed(s.overlap_pct, 2) << "% of communication under compute ("
      << fixed(s.overlap_ms) << " ms), exposed communication " << fixed(s.exposed_comm_ms)
      << " ms\n  streams:\n";
  for (const StreamStatistics& stream : s.streams) {
    out << "    " << stream.label << ": " << stream.kernels << " kernels, busy "
        << fixed(stream.busy_ms) << " ms, communication " << fixed(stream.communication_ms)
        << " ms\n";
  }
  std::map<std::string, AnnotationTotals> totals;
  for (std::size_t i = 0; i < timeline.annotations.size(); ++i) {
    const AnnotationWindow& a = timeline.annotations[i];
    if (!inside(a, window)) continue;
    AnnotationTotals& t = totals[a.name];
    ++t.count;
    if (!a.on_gpu()) continue;
    ++t.on_gpu;
    t.gpu_window_ms += to_ms(a.gpu_end - a.gpu_start);
    t.gpu_busy_ms += to_ms(a.gpu_busy);
    t.comm_ms += s.annotations[i].comm_ms;
    t.exposed_comm_ms += s.annotations[i].exposed_ms;
  }
  if (totals.empty()) return;
  out << "  annotations (count, GPU window, GPU busy and communication time in total):\n";
  for (const auto& [name, t] : totals) {
    out << "    " << name << ": " << t.count << "x, window " << fixed(t.gpu_window_ms)
        << " ms, busy " << fixed(t.gpu_busy_ms) << " ms";
    if (t.comm_ms > 0) {
      out << ", communication " << fixed(t.comm_ms) << " ms (exposed " << fixed(t.exposed_comm_ms)
          << " ms)";
    }
    if (t.on_gpu < t.count) out << " (" << t.count - t.on_gpu << " without GPU work)";
    out << "\n";
  }
}

}  // namespace

std::string summary_json(const std::vector<RankTimeline>& timelines, TimeNs origin,
                         const TimeWindow& window) {
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
  out << ",\n\"traces\": [";
  for (std::size_t i = 0; i < timelines.size(); ++i) {
    out << (i ? ",\n " : "\n ");
    trace_json(out, timelines[i], origin, window, measured);
  }
  out << "\n]}\n";
  return out.str();
}

std::string summary_text(const std::vector<RankTimeline>& timelines, TimeNs origin,
                         const TimeWindow& window) {
  std::ostringstream out;
  if (window) {
    out << "window " << fixed(to_ms(window->start - origin)) << " .. "
        << fixed(to_ms(window->end - origin)) << " ms after the first GPU activity\n";
  }
  for (const RankTimeline& timeline : timelines) trace_text(out, timeline, window);
  return out.str();
}

}  // namespace dualpipe::trace
