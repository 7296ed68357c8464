// Fuzz target: the Chrome-trace reader (plain or gzip bytes) must either build timelines,
// statistics and a step analysis whose figures are consistent, or throw TraceFormatError — never
// crash or hang.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "dualpipe/trace/chrome_trace.h"
#include "dualpipe/trace/statistics.h"
#include "dualpipe/trace/step_analysis.h"
#include "dualpipe/trace/timeline.h"
#include "dualpipe/trace/trace_error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace dualpipe::trace;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  try {
    ProfileTrace trace = parse_chrome_trace(TraceText::decode(bytes, "fuzz"), "fuzz");
    std::vector<RankTimeline> timelines;
    timelines.push_back(build_timeline(std::move(trace), 0, KernelClassifier()));
    const RankStatistics stats = compute_statistics(timelines[0], std::nullopt);
    const double slack = 1e-6 * (1.0 + stats.gpu_span_ms);
    if (stats.overlap_ms > stats.comm_ms + slack || stats.gpu_busy_ms > stats.gpu_span_ms + slack ||
        stats.overlap_pct < 0.0 || stats.overlap_pct > 100.0 + 1e-9) {
      std::abort();
    }
    // The attribution covers the span exactly, and the critical path the step.
    StepAnalysis analysis = align_timelines(timelines);
    analyse_step(timelines, std::nullopt, analysis);
    TimeNs total = 0;
    for (TimeNs part : analysis.ranks[0].by_category) total += part;
    if (total != analysis.span.length() || analysis.path.length() > analysis.span.length()) {
      std::abort();
    }
  } catch (const TraceFormatError&) {
  }
  return 0;
}
