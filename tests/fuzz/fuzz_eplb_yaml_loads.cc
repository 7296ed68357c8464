// Fuzz target: the yaml load reader must never crash, and every series it accepts must survive a
// round trip through the yaml writer unchanged.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "dualpipe/eplb/yaml_loads.h"
#include "dualpipe/eplb/parse_error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  dualpipe::eplb::LoadSeries series;
  try {
    series = dualpipe::eplb::parse_yaml_loads(text);
  } catch (const dualpipe::eplb::ParseError&) {
    return 0;
  }
  const auto again = dualpipe::eplb::parse_yaml_loads(dualpipe::eplb::format_yaml_loads(series));
  if (again.size() != series.size()) std::abort();
  for (std::size_t s = 0; s < series.size(); ++s) {
    if (again[s] != series[s]) std::abort();
  }
  return 0;
}
