// Fuzz target: moe-bench's flags, the rules between them and its memory estimate.
#include "fuzzed_command_line.h"
#include "moe_bench_flags.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  CLI::App app{"fuzz", "moe-bench"};
  dualpipe::apps::MoeBenchFlags flags;
  dualpipe::apps::add_moe_bench_flags(app, flags);
  return dualpipe::apps::testing::parse_fuzzed_command_line(
      app, data, size, [&] { dualpipe::apps::check_moe_bench_flags(flags, 2); });
}
