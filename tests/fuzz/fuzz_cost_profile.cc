// Fuzz target: the YAML cost-profile reader of pipeline-schedule must never crash or hang; it
// either returns costs that pass check_cost_model() or throws std::invalid_argument.
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "cost_profile.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const dualpipe::schedule::CostModel costs = dualpipe::apps::parse_cost_profile(text, "fuzz");
    dualpipe::schedule::check_cost_model(costs);  // accepted costs must be valid
  } catch (const std::invalid_argument&) {
    // rejected with a message: fine
  }
  return 0;
}
