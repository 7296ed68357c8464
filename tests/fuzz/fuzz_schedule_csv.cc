// Fuzz target: the CSV schedule reader must never crash or hang; every schedule it accepts must
// survive validation and the communication pass, and write back to CSV that reads back the same.
// An input starting with "#2\n" is read with two directions (DualPipe), any other with one.
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "dualpipe/schedule/communication.h"
#include "dualpipe/schedule/schedule_io.h"
#include "dualpipe/schedule/validator.h"

namespace {

using namespace dualpipe::schedule;

bool same(const Schedule& a, const Schedule& b) {
  return a.num_ranks == b.num_ranks && a.num_stages == b.num_stages &&
         a.num_microbatches == b.num_microbatches && a.stage_rank == b.stage_rank &&
         a.programs == b.programs;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  int directions = 1;
  if (text.rfind("#2\n", 0) == 0) {
    directions = 2;
    text.erase(0, 3);
  }
  Schedule schedule;
  try {
    schedule = read_schedule_csv(text, directions);
  } catch (const std::invalid_argument&) {
    return 0;
  }
  if (!same(read_schedule_csv(write_schedule_csv(schedule), directions), schedule)) std::abort();
  // Validation allocates per chunk; keep the fuzzer on inputs it can check quickly.
  if (std::int64_t{schedule.num_stages} * schedule.num_microbatches > (1 << 16)) return 0;
  validate(schedule, P2PMode::kBlocking, 20);
  if (validate(without_communication(schedule), P2PMode::kAsynchronous, 1).empty() &&
      !validate(with_communication(schedule), P2PMode::kBlocking, 1).empty()) {
    std::abort();  // the pass must turn every valid compute schedule into a deadlock-free one
  }
  return 0;
}
