// Fuzz target: trace-view's flags.
#include "fuzzed_command_line.h"
#include "trace_view_flags.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  CLI::App app{"fuzz", "trace-view"};
  dualpipe::apps::TraceViewFlags flags;
  dualpipe::apps::add_trace_view_flags(app, flags);
  return dualpipe::apps::testing::parse_fuzzed_command_line(app, data, size, [] {});
}
