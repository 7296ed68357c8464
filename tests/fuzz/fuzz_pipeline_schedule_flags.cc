// Fuzz target: pipeline-schedule's flags and the rules between them.
#include "fuzzed_command_line.h"
#include "pipeline_schedule_flags.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  CLI::App app{"fuzz", "pipeline-schedule"};
  dualpipe::apps::PipelineScheduleFlags flags;
  dualpipe::apps::add_pipeline_schedule_flags(app, flags);
  return dualpipe::apps::testing::parse_fuzzed_command_line(
      app, data, size, [&] { dualpipe::apps::check_flag_combinations(flags); });
}
