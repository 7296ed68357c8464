// Shared body of the eplb load-reader fuzz targets: a reader must never crash, and every series it
// accepts must survive a round trip through the matching writer unchanged.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "dualpipe/eplb/load_matrix.h"
#include "dualpipe/eplb/parse_error.h"

namespace dualpipe::eplb::testing {

// Reads `data` (`size` bytes) with `parse`; when it is accepted, aborts unless
// parse(format(series)) gives the same series back. Returns 0, as LLVMFuzzerTestOneInput must.
template <typename Parse, typename Format>
int check_load_round_trip(const std::uint8_t* data, std::size_t size, Parse parse, Format format) {
  LoadSeries series;
  try {
    series = parse(std::string_view(reinterpret_cast<const char*>(data), size));
  } catch (const ParseError&) {
    return 0;
  }
  const LoadSeries again = parse(format(series));
  if (again.size() != series.size()) std::abort();
  for (std::size_t s = 0; s < series.size(); ++s) {
    if (again[s] != series[s]) std::abort();
  }
  return 0;
}

}  // namespace dualpipe::eplb::testing
