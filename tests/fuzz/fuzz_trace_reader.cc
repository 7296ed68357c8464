// Fuzz target: the Chrome-trace reader (plain or gzip bytes) must either build timelines and
// statistics whose figures are consistent, or throw TraceFormatError — never crash or hang.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "dualpipe/trace/chrome_trace.h"
#include "dualpipe/trace/statistics.h"
#include "dualpipe/trace/timeline.h"
#include "dualpipe/trace/trace_error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace dualpipe::trace;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  try {
    ProfileTrace trace = parse_chrome_trace(TraceText::decode(bytes, "fuzz"), "fuzz");
    const RankTimeline timeline = build_timeline(std::move(trace), 0, KernelClassifier());
    const RankStatistics stats = compute_statistics(timeline, std::nullopt);
    const double slack = 1e-6 * (1.0 + stats.gpu_span_ms);
    if (stats.overlap_ms > stats.comm_ms + slack || stats.gpu_busy_ms > stats.gpu_span_ms + slack ||
        stats.overlap_pct < 0.0 || stats.overlap_pct > 100.0 + 1e-9) {
      std::abort();
    }
  } catch (const TraceFormatError&) {
  }
  return 0;
}
