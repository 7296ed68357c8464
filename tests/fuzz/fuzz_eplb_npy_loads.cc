// Fuzz target: the npy load reader must never crash, and every series it accepts must survive a
// round trip through the npy writer unchanged.
#include "dualpipe/eplb/npy_loads.h"
#include "eplb_loads_round_trip.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace dualpipe::eplb;
  return testing::check_load_round_trip(data, size, parse_npy_loads, format_npy_loads);
}
