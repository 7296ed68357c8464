#include "number_flags.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace dualpipe::apps {
namespace {

// The error CLI11 reports for `value` given to a flag checked by `domain`, "" when accepted.
std::string rejection(const CLI::Validator& domain, const std::string& value) {
  CLI::App app{"test", "tool"};
  std::string text;
  app.add_option("--flag", text)->check(domain);
  std::vector<std::string> args{value, "--flag"};  // CLI11 parses them back to front
  try {
    app.parse(args);
  } catch (const CLI::ParseError& error) {
    return error.what();
  }
  return "";
}

TEST(IntegerIn, AcceptsIntegersInTheDomainAndNamesTheFlagOtherwise) {
  const CLI::Validator steps = integer_in(1, 1000);
  EXPECT_EQ(rejection(steps, "1"), "");
  EXPECT_EQ(rejection(steps, "+1000"), "");
  EXPECT_EQ(rejection(steps, "0"), "--flag: expected an integer from 1 to 1000, got '0'");
  for (const char* bad :
       {"1001", "-1", "1.5", "1e3", "nan", "inf", "", "12abc", "0x10", "010", "-0"}) {
    EXPECT_NE(rejection(steps, bad), "") << bad;
  }
}

TEST(IntegerIn, RefusesNegativeTextForAnUnsignedDomainInsteadOfWrappingIt) {
  const CLI::Validator seed = integer_in(0, UINT64_MAX);
  EXPECT_EQ(rejection(seed, "18446744073709551615"), "");
  EXPECT_NE(rejection(seed, "-1"), "");
  EXPECT_NE(rejection(seed, "18446744073709551616"), "");
  const CLI::Validator offset = integer_in(-5, 5);
  EXPECT_EQ(rejection(offset, "-5"), "");
  EXPECT_NE(rejection(offset, "-6"), "");
}

TEST(RealIn, RefusesNanInfinitiesAndNumbersOutOfRange) {
  const CLI::Validator cost = real_in(0.0, 1e15);
  EXPECT_EQ(rejection(cost, "2.5"), "");
  EXPECT_EQ(rejection(cost, "1e15"), "");
  for (const char* bad : {"nan", "inf", "-inf", "-0.5", "1e308", "1e400", "x"}) {
    EXPECT_NE(rejection(cost, bad), "") << bad;
  }
}

TEST(QuotedValue, ShortensLongValuesForMessages) {
  EXPECT_EQ(quoted_value("12"), "'12'");
  EXPECT_EQ(quoted_value(std::string(5'000'000, '9')), "'" + std::string(40, '9') + "...'");
}

}  // namespace
}  // namespace dualpipe::apps
