#include "schedule_report.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <string>
#include <vector>

#include "dualpipe/schedule/generators.h"

namespace dualpipe::apps {
namespace {

const schedule::CostModel kCosts = schedule::uniform_cost_model(1, 2, 1, 2.5);

SimulatedSchedule simulated(const std::string& name, int ranks, int microbatches) {
  return SimulatedSchedule{
      schedule::simulate(schedule::generate_schedule(name, ranks, microbatches), kCosts), 1};
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> result;
  std::size_t start = 0;
  for (std::size_t end; (end = text.find('\n', start)) != std::string::npos; start = end + 1) {
    result.push_back(text.substr(start, end - start));
  }
  return result;
}

TEST(SummaryText, ListsStepTimeAndOneLinePerRank) {
  const auto text = lines(summary_text(simulated("1f1b", 4, 8)));
  ASSERT_EQ(text.size(), 3u + 4u);
  EXPECT_EQ(text[0], "schedule 1f1b: 4 ranks, 4 stages, 8 micro-batches");
  EXPECT_EQ(text[1], "step time 33 units");  // (8 + 3) x 3
  EXPECT_EQ(text[3], "0     24          9           4                 1");
}

TEST(SummaryJson, HasTheIssuesKeysWithOneValuePerRank) {
  const std::string json = summary_json(simulated("dualpipe", 4, 8));
  simdjson::dom::parser parser;
  const simdjson::dom::element root = parser.parse(json);
  EXPECT_EQ(std::string_view(root["schedule"]), "dualpipe");
  EXPECT_DOUBLE_EQ(double(root["step_time"]),
                   simulated("dualpipe", 4, 8).simulation.summary.step_time);
  for (const char* key : {"bubble_per_rank", "busy_per_rank", "peak_activations_per_rank",
                          "parameter_copies_per_rank"}) {
    EXPECT_EQ(simdjson::dom::array(root[key]).size(), 4u) << key;
  }
  EXPECT_EQ(int64_t(root["peak_activations_per_rank"].at(0)), 5);
  EXPECT_EQ(int64_t(root["parameter_copies_per_rank"].at(3)), 2);
}

TEST(ComparisonTable, HasOneRowPerScheduleWithThePublishedBubble) {
  const auto text =
      lines(comparison_table({simulated("1f1b", 4, 8), simulated("zb1p", 4, 8)}, kCosts));
  ASSERT_EQ(text.size(), 4u);  // header, rule, two rows
  EXPECT_EQ(text[1].find_first_not_of("|-"), std::string::npos);
  EXPECT_EQ(text[2].rfind("| 1f1b ", 0), 0u);
  EXPECT_NE(text[2].find("| 9 "), std::string::npos);  // (4-1)(1+2)
  EXPECT_NE(text[2].find("(PP-1)(F+B)"), std::string::npos);
  EXPECT_EQ(text[3].rfind("| zb1p ", 0), 0u);
  EXPECT_NE(text[3].find("(PP-1)(F+B-2W)"), std::string::npos);
}

TEST(ComparisonJson, IsAnArrayOfSummariesWithThePublishedBubble) {
  const std::string json =
      comparison_json({simulated("1f1b", 4, 8), simulated("dualpipe", 4, 8)}, kCosts);
  simdjson::dom::parser parser;
  const simdjson::dom::array runs = parser.parse(json).get_array();
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_DOUBLE_EQ(double(runs.at(0)["published_bubble"]), 9.0);
  EXPECT_DOUBLE_EQ(double(runs.at(1)["published_bubble"]), 1.0 * (2.5 + 2 - 3));
}

}  // namespace
}  // namespace dualpipe::apps
