// Fuzz target: the schedule JSON reader must never crash or hang, only throw
// std::invalid_argument; every schedule it accepts must validate without crashing and write back
// to JSON that reads back the same.
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "dualpipe/schedule/schedule_io.h"
#include "dualpipe/schedule/validator.h"
#include "dualpipe/trace/schedule_json.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace dualpipe;
  const std::string text(reinterpret_cast<const char*>(data), size);
  schedule::Schedule parsed;
  try {
    parsed = trace::read_schedule_json(text);
  } catch (const std::invalid_argument&) {
    return 0;
  }
  const schedule::Schedule again = trace::read_schedule_json(schedule::write_schedule_json(parsed));
  if (again.name != parsed.name || again.num_ranks != parsed.num_ranks ||
      again.num_stages != parsed.num_stages || again.num_microbatches != parsed.num_microbatches ||
      again.stage_rank != parsed.stage_rank || again.programs != parsed.programs) {
    std::abort();
  }
  if (std::int64_t{parsed.num_stages} * parsed.num_microbatches <= (1 << 16)) {
    schedule::validate(parsed, schedule::P2PMode::kAsynchronous, 20);
  }
  return 0;
}
