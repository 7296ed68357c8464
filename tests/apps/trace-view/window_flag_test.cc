#include "window_flag.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace dualpipe::apps {
namespace {

TEST(ParseWindowFlag, TakesMillisecondsAfterTheOrigin) {
  const trace::TimeWindow window = parse_window_flag("10:25.5", 1'000);
  ASSERT_TRUE(window);
  EXPECT_EQ(window->start, 1'000 + 10'000'000);
  EXPECT_EQ(window->end, 1'000 + 25'500'000);
  EXPECT_FALSE(parse_window_flag("", 0));
  EXPECT_EQ(parse_window_flag(":5", 0)->start, -1'000'000'000'000'000'000);
}

TEST(ParseWindowFlag, RefusesBoundsThatAreNotFiniteMilliseconds) {
  for (const char* text : {"nan:nan", "nan:inf", "0:inf", "-inf:", "1e13:", "5", "a:b", "5:1"}) {
    EXPECT_THROW(parse_window_flag(text, 0), std::invalid_argument) << text;
  }
}

}  // namespace
}  // namespace dualpipe::apps
