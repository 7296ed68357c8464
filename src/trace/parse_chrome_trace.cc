// parse_chrome_trace: a whole trace, read in pieces on several threads when it is large, and
// traces recorded without a GPU read with their CPU operators as the activity.
#include <map>
#include <string>

#include "dualpipe/trace/chrome_trace.h"
#include "dualpipe/trace/trace_error.h"
#include "trace_pieces.h"

namespace dualpipe::trace {

namespace {

// A trace recorded without a GPU, read with its CPU operators as the activity: each thread's
// outermost operators only (the ones nested in them are part of their time).
ProfileTrace read_cpu_trace(const TraceText& text, const std::string& source) {
  ProfileTrace trace;
  trace.source = source;
  trace.cpu_only = true;
  simdjson::ondemand::parser parser;
  read_trace_part(text.view(), TracePart::kWhole, source, parser, trace, nullptr,
                  /*cpu_operators=*/true);
  std::vector<GpuActivity> outermost;
  std::map<std::pair<TrackId, TrackId>, TimeNs> open_until;  // per thread: end of its outer op
  for (const GpuActivity& op : trace.gpu_activities) {
    TimeNs& until = open_until[{op.device, op.stream}];
    if (op.start < until) continue;
    until = op.end();
    outermost.push_back(op);
  }
  trace.gpu_activities = std::move(outermost);
  return trace;
}

}  // namespace

ProfileTrace parse_chrome_trace(const TraceText& text, const std::string& source,
                                unsigned threads) {
  try {
    if (std::optional<ProfileTrace> trace = read_in_pieces(text, source, threads)) {
      return *std::move(trace);
    }
    ProfileTrace trace;
    trace.source = source;
    simdjson::ondemand::parser parser;
    read_trace_part(text.view(), TracePart::kWhole, source, parser, trace, nullptr);
    return trace;
  } catch (const TraceFormatError& error) {
    // No GPU activity, but CPU operators: a trace recorded on the CPU.
    if (std::string(error.what()).find("no GPU kernels") == std::string::npos ||
        text.view().find("\"cpu_op\"") == std::string_view::npos) {
      throw;
    }
    return read_cpu_trace(text, source);
  }
}

}  // namespace dualpipe::trace
