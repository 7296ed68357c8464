// Fuzz target: eplb-plan's flags (plan command and replay subcommand) and the flags each requires.
#include "eplb_plan_flags.h"
#include "fuzzed_command_line.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  CLI::App app{"fuzz", "eplb-plan"};
  dualpipe::apps::EplbPlanFlags flags;
  dualpipe::apps::add_eplb_plan_flags(app, flags);
  return dualpipe::apps::testing::parse_fuzzed_command_line(
      app, data, size, [&] { dualpipe::apps::check_required_flags(app, flags); });
}
