#include "dualpipe/eplb/parse_error.h"

#include <gtest/gtest.h>

#include <cmath>

namespace dualpipe::eplb {
namespace {

TEST(CheckedLoad, AcceptsFiniteNonNegativeFloat32Values) {
  EXPECT_EQ(checked_load(2.5, "x"), 2.5f);
  EXPECT_THROW(checked_load(-0.5, "x"), ParseError);
  EXPECT_THROW(checked_load(NAN, "x"), ParseError);
  EXPECT_THROW(checked_load(INFINITY, "x"), ParseError);
  EXPECT_THROW(checked_load(1e39, "x"), ParseError);
}

TEST(FormatNumber, PrintsTheShortestTextThatReadsBack) {
  EXPECT_EQ(format_number(0.1f), "0.1");
  EXPECT_EQ(format_number(3.0), "3");
  EXPECT_EQ(std::stof(format_number(1.0f / 3.0f)), 1.0f / 3.0f);
}

}  // namespace
}  // namespace dualpipe::eplb
