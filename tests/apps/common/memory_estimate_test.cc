#include "memory_estimate.h"

#include <gtest/gtest.h>

#include <limits>
#include <stdexcept>

namespace dualpipe::apps {
namespace {

TEST(RefuseBeyondMemory, NamesWhatNeedsTheMemoryAndBothFigures) {
  EXPECT_NO_THROW(refuse_beyond_memory(1024.0, "the model", 2048.0));
  try {
    refuse_beyond_memory(3.0 * 1024 * 1024 * 1024, "the model (--hidden 9)", 1024.0 * 1024 * 1024);
    FAIL() << "no error";
  } catch (const std::invalid_argument& error) {
    EXPECT_STREQ(
        error.what(),
        "the model (--hidden 9) needs at least about 3 GiB (estimate), more than the 1 GiB "
        "of memory of this machine");
  }
  EXPECT_THROW(refuse_beyond_memory(std::numeric_limits<double>::infinity(), "x", 1.0),
               std::invalid_argument);
}

TEST(PhysicalMemoryBytes, IsSomeMemory) { EXPECT_GT(physical_memory_bytes(), 1 << 20); }

}  // namespace
}  // namespace dualpipe::apps
