#include "json_diagnosis.h"

#include <gtest/gtest.h>

namespace dualpipe::trace {
namespace {

TEST(JsonDiagnosis, FindsTheFirstInvalidUtf8Byte) {
  EXPECT_EQ(first_invalid_utf8("ok \xc3\xa9 then \xff"), 11u);
  EXPECT_EQ(first_invalid_utf8("all fine"), 8u);
}

TEST(JsonDiagnosis, FindsTheQuoteOfTheUnterminatedString) {
  EXPECT_EQ(last_opening_quote(R"({"a": "b", "c": "cut)"), 16u);
}

TEST(JsonDiagnosis, ExplainsBracketsThatDoNotPairUp) {
  EXPECT_FALSE(unbalanced_brackets(R"({"a": [1, "]"]})"));
  const auto cut = unbalanced_brackets(R"({"a": [1, 2)");
  ASSERT_TRUE(cut);
  EXPECT_EQ(cut->offset, 11u);
  EXPECT_NE(cut->what.find("truncated"), std::string::npos);
  const auto extra = unbalanced_brackets(R"({"a": 1}})");
  ASSERT_TRUE(extra);
  EXPECT_EQ(extra->offset, 8u);
  const auto after = unbalanced_brackets(R"({"a": 1} x)");
  ASSERT_TRUE(after);
  EXPECT_EQ(after->what, "unexpected content after the JSON document");
}

}  // namespace
}  // namespace dualpipe::trace
