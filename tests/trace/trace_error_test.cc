#include "dualpipe/trace/trace_error.h"

#include <gtest/gtest.h>

namespace dualpipe::trace {
namespace {

TEST(TraceFormatError, MessageIsOneLineWithSourceOffsetAndProblem) {
  const TraceFormatError error("t.json", 42, "expected a number");
  EXPECT_STREQ(error.what(), "t.json: byte 42: expected a number");
  EXPECT_EQ(error.source(), "t.json");
  EXPECT_EQ(error.byte_offset(), 42u);
}

}  // namespace
}  // namespace dualpipe::trace
