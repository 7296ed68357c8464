// Fuzz target: the plan-file reader (--previous) must never crash; any rows it accepts either make
// a valid placement or are rejected by placement_from_phy2log with std::invalid_argument.
#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string_view>

#include "dualpipe/eplb/parse_error.h"
#include "dualpipe/eplb/placement.h"
#include "dualpipe/eplb/plan_formats.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const auto rows = dualpipe::eplb::parse_plan_phy2log(text);
    int experts = 0;
    for (const auto& row : rows) {
      for (int id : row) experts = std::max(experts, id + 1);
    }
    if (experts <= 4096) dualpipe::eplb::placement_from_phy2log(rows, experts);
  } catch (const dualpipe::eplb::ParseError&) {
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
