// Test helpers shared by the load-file reader tests: a small load series, each reader's error
// message, and the round trip through a reader's own writer.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "dualpipe/eplb/load_matrix.h"
#include "dualpipe/eplb/parse_error.h"

namespace dualpipe::eplb::testing {

// Two steps of 3 layers x 4 experts with integers, fractions and zeros.
inline LoadSeries two_step_series() {
  LoadMatrix a(3, 4), b(3, 4);
  a << 1, 2.5f, 0, 7, 3, 3, 3, 3, 0.1f, 1e6f, 12, 0;
  b << 4, 0, 1.25f, 2, 9, 8, 7, 6, 5, 4, 3, 2;
  return {a, b};
}

// The message of the ParseError that `parse(input)` throws, or "no error".
template <LoadSeries (*parse)(std::string_view)>
std::string parse_error_of(std::string_view input) {
  try {
    parse(input);
  } catch (const ParseError& error) {
    return error.what();
  }
  return "no error";
}

// Expects two_step_series() back, unchanged, from parse(format(series)).
inline void expect_round_trip(LoadSeries (*parse)(std::string_view),
                              std::string (*format)(const LoadSeries&)) {
  const LoadSeries series = two_step_series();
  const LoadSeries back = parse(format(series));
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[0], series[0]);
  EXPECT_EQ(back[1], series[1]);
}

}  // namespace dualpipe::eplb::testing
