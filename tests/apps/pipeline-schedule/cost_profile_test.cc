#include "cost_profile.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>

namespace dualpipe::apps {
namespace {

std::string profile_error(const std::string& yaml) {
  try {
    parse_cost_profile(yaml, "p.yaml");
  } catch (const std::invalid_argument& error) {
    return error.what();
  }
  return "";
}

TEST(ParseCostProfile, ReadsEveryField) {
  const schedule::CostModel costs = parse_cost_profile(R"(
name: example
time_unit: ms
stage: {forward: 1.5, backward: 3, weight: 1, overlapped: 4}
p2p: {latency: 0.01, bandwidth: 5e7, message_bytes: 1e6}
rank_slowdown: [1, 1.25]
)",
                                                       "p.yaml");
  EXPECT_EQ(costs.time_unit, "ms");
  EXPECT_DOUBLE_EQ(costs.default_stage.forward, 1.5);
  EXPECT_DOUBLE_EQ(costs.default_stage.backward, 3.0);
  EXPECT_DOUBLE_EQ(costs.default_stage.weight, 1.0);
  EXPECT_DOUBLE_EQ(costs.default_stage.overlapped, 4.0);
  EXPECT_DOUBLE_EQ(costs.p2p.transfer_time(), 0.01 + 0.02);
  EXPECT_EQ(costs.rank_slowdown, (std::vector<double>{1.0, 1.25}));
  EXPECT_TRUE(costs.stages.empty());
}

TEST(ParseCostProfile, DefaultsWeightToZeroAndTheOverlappedPairToForwardPlusBackward) {
  const schedule::CostModel costs = parse_cost_profile("stage: {forward: 1, backward: 2}\n", "p");
  EXPECT_DOUBLE_EQ(costs.default_stage.weight, 0.0);
  EXPECT_DOUBLE_EQ(costs.default_stage.overlapped, 3.0);
  EXPECT_EQ(costs.time_unit, "units");
}

TEST(ParseCostProfile, FillsPerStageGapsFromTheDefaultStage) {
  const schedule::CostModel costs = parse_cost_profile(R"(
stage: {forward: 1, backward: 3, weight: 1, overlapped: 3}
stages:
  - {}
  - {forward: 2, backward: 6}
  - {overlapped: 3.5}
)",
                                                       "p");
  ASSERT_EQ(costs.stages.size(), 3u);
  EXPECT_DOUBLE_EQ(costs.stages[0].overlapped, 3.0);
  EXPECT_DOUBLE_EQ(costs.stages[1].weight, 1.0);
  EXPECT_DOUBLE_EQ(costs.stages[1].overlapped, 6.0);  // (2 + 6) x the default's 3 / 4
  EXPECT_DOUBLE_EQ(costs.stages[2].overlapped, 3.5);
}

TEST(ParseCostProfile, NamesFileLineAndColumnOfAnUnknownKey) {
  EXPECT_EQ(profile_error("stage: {forward: 1, backward: 2}\np2p:\n  latencyy: 1\n"),
            "p.yaml:3:3: unknown key 'latencyy' (expected one of latency, bandwidth, "
            "message_bytes)");
}

TEST(ParseCostProfile, RejectsANegativeCostWhereItIsWritten) {
  EXPECT_EQ(profile_error("stage:\n  forward: -1\n  backward: 2\n"),
            "p.yaml:2:12: stage.forward: expected a finite number >= 0, got '-1'");
}

TEST(ParseCostProfile, RejectsTextWhereANumberBelongs) {
  EXPECT_EQ(profile_error("stage: {forward: fast, backward: 2}\n"),
            "p.yaml:1:18: stage.forward: expected a number, got 'fast'");
}

TEST(ParseCostProfile, RejectsNonFiniteNumbers) {
  EXPECT_NE(profile_error("stage: {forward: nan, backward: 2}\n").find("finite"),
            std::string::npos);
  EXPECT_NE(profile_error("stage: {forward: 1e999, backward: 2}\n").find("stage.forward"),
            std::string::npos);
}

TEST(ParseCostProfile, RejectsAWeightLargerThanTheBackward) {
  EXPECT_NE(profile_error("stage: {forward: 1, backward: 2, weight: 3}\n").find("stage.weight"),
            std::string::npos);
}

TEST(ParseCostProfile, RejectsMissingStageCosts) {
  EXPECT_EQ(profile_error("name: x\n"),
            "p.yaml:1:1: missing key 'stage' (the costs of every stage)");
  EXPECT_NE(profile_error("stage: {forward: 1}\n").find("needs at least forward and backward"),
            std::string::npos);
}

TEST(ParseCostProfile, RejectsDuplicateKeys) {
  EXPECT_NE(profile_error("stage: {forward: 1, backward: 2}\nstage: {forward: 1, backward: 2}\n")
                .find("duplicate key 'stage'"),
            std::string::npos);
}

TEST(ParseCostProfile, RejectsMalformedYamlWithItsPosition) {
  const std::string error = profile_error("stage: {forward: 1, backward: 2\n");
  EXPECT_EQ(error.rfind("p.yaml:", 0), 0u) << error;
  EXPECT_NE(error.find("malformed YAML"), std::string::npos) << error;
}

TEST(ParseCostProfile, RejectsADocumentThatIsNotAMapping) {
  EXPECT_NE(profile_error("").find("expected a mapping"), std::string::npos);
  EXPECT_NE(profile_error("- 1\n- 2\n").find("expected a mapping"), std::string::npos);
}

TEST(ParseCostProfile, RejectsANonPositiveSlowdown) {
  EXPECT_NE(profile_error("stage: {forward: 1, backward: 2}\nrank_slowdown: [1, 0]\n")
                .find("rank_slowdown[1]: expected a factor > 0"),
            std::string::npos);
}

TEST(ParseCostProfile, ReadsEveryShippedProfile) {
  const std::filesystem::path profiles = std::filesystem::path(DUALPIPE_SOURCE_DIR) / "profiles";
  int read = 0;
  for (const auto& entry : std::filesystem::directory_iterator(profiles)) {
    if (entry.path().extension() != ".yaml") continue;
    std::ifstream in(entry.path());
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_NO_THROW(parse_cost_profile(text, entry.path().string())) << entry.path();
    ++read;
  }
  EXPECT_GE(read, 1);
}

}  // namespace
}  // namespace dualpipe::apps
