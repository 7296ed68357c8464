// Fuzz target: the yaml load reader must never crash, and every series it accepts must survive a
// round trip through the yaml writer unchanged.
#include "dualpipe/eplb/yaml_loads.h"
#include "eplb_loads_round_trip.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace dualpipe::eplb;
  return testing::check_load_round_trip(data, size, parse_yaml_loads, format_yaml_loads);
}
