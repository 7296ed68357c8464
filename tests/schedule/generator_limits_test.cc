#include "generator_limits.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace dualpipe::schedule::detail {
namespace {

std::string error_of(int ranks, int microbatches, int stages_per_rank) {
  try {
    require_sane_size("gpipe", ranks, microbatches, stages_per_rank);
  } catch (const std::invalid_argument& error) {
    return error.what();
  }
  return "no error";
}

TEST(RequireSaneSize, NamesTheScheduleAndTheOffendingValue) {
  EXPECT_EQ(error_of(0, 4, 1), "gpipe: needs at least 1 rank, got 0");
  EXPECT_EQ(error_of(4, -1, 1), "gpipe: needs at least 1 micro-batch, got -1");
  EXPECT_EQ(error_of(4, 4, 0), "gpipe: needs at least 1 stage per rank, got 0");
  EXPECT_EQ(error_of(4096, 1024, 2),
            "gpipe: too large: ranks x micro-batches x stages per rank is 8388608, at most "
            "4194304 supported");
  EXPECT_EQ(error_of(64, 1024, 2), "no error");
}

TEST(Require, ThrowsOnlyWhenTheConditionFails) {
  EXPECT_NO_THROW(require(true, "x", "never"));
  EXPECT_THROW(require(false, "x", "always"), std::invalid_argument);
}

}  // namespace
}  // namespace dualpipe::schedule::detail
