#include "dualpipe/schedule/cost_model.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "schedule_test_support.h"

namespace dualpipe::schedule {
namespace {

Action compute(Op op, int stage) { return Action::compute(op, Chunk{stage, 0, 0}); }

// Runs `call` and returns the message of the std::invalid_argument it throws ("no error" if none).
template <typename Call>
std::string error_of(Call call) {
  return testing::invalid_argument_message(call);
}

TEST(P2PCosts, AddsLatencyAndSizeOverBandwidth) {
  P2PCosts p2p{0.5, 1000.0, 250.0};
  EXPECT_DOUBLE_EQ(p2p.transfer_time(), 0.75);
}

TEST(P2PCosts, TreatsZeroBandwidthAsUnlimited) {
  P2PCosts p2p{0.5, 0.0, 1e9};
  EXPECT_DOUBLE_EQ(p2p.transfer_time(), 0.5);
}

TEST(CostModel, PricesEachComputeOpFromItsStage) {
  const CostModel costs = uniform_cost_model(1.0, 2.5, 0.75, 3.0);
  EXPECT_DOUBLE_EQ(costs.duration(compute(Op::kF, 0), 0), 1.0);
  EXPECT_DOUBLE_EQ(costs.duration(compute(Op::kB, 0), 0), 2.5);
  EXPECT_DOUBLE_EQ(costs.duration(compute(Op::kW, 0), 0), 0.75);
  EXPECT_DOUBLE_EQ(costs.duration(Action::overlapped(Chunk{0, 1, 0}, Chunk{0, 0, 1}), 0), 3.0);
}

TEST(CostModel, PricesAnInputBackwardAsBackwardMinusWeight) {
  const CostModel costs = uniform_cost_model(1.0, 2.5, 0.75, 3.0);
  EXPECT_DOUBLE_EQ(costs.duration(compute(Op::kI, 0), 0), 1.75);
}

TEST(CostModel, GivesCommunicationActionsNoComputeTime) {
  const CostModel costs = uniform_cost_model(1.0, 2.0, 1.0, 3.0, 0.5);
  EXPECT_DOUBLE_EQ(costs.duration(Action::communication(Op::kSendF, Chunk{}, 1), 0), 0.0);
}

TEST(CostModel, UsesPerStageCostsWhenGiven) {
  CostModel costs;
  costs.stages = {StageCosts{1, 2, 1, 3}, StageCosts{2, 4, 1, 6}};
  EXPECT_DOUBLE_EQ(costs.duration(compute(Op::kF, 1), 0), 2.0);
  EXPECT_DOUBLE_EQ(costs.duration(compute(Op::kI, 1), 0), 3.0);
  EXPECT_NE(error_of([&] { costs.duration(compute(Op::kF, 2), 0); }).find("stage 2"),
            std::string::npos);
}

TEST(CostModel, PricesAPairOfDifferentStagesWithTheirMeanOverlapRatio) {
  CostModel costs;
  // Ratios FB/(F+B): stage 0 2.4/3 = 0.8, stage 1 3/6 = 0.5; mean 0.65.
  costs.stages = {StageCosts{1, 2, 1, 2.4}, StageCosts{2, 4, 1, 3}};
  const Action pair = Action::overlapped(Chunk{0, 1, 0}, Chunk{1, 0, 0});  // F of 0, B of 1
  EXPECT_DOUBLE_EQ(costs.duration(pair, 0), (1.0 + 4.0) * 0.65);
  const Action same = Action::overlapped(Chunk{1, 1, 0}, Chunk{1, 0, 0});
  EXPECT_DOUBLE_EQ(costs.duration(same, 0), 3.0);  // exactly that stage's FB
}

TEST(CostModel, SlowsDownComputeOnSlowRanks) {
  CostModel costs = uniform_cost_model(1.0, 2.0, 1.0, 2.5);
  costs.rank_slowdown = {1.0, 1.5};
  EXPECT_DOUBLE_EQ(costs.duration(compute(Op::kF, 0), 1), 1.5);
  EXPECT_DOUBLE_EQ(costs.duration(Action::overlapped(Chunk{}, Chunk{0, 1, 0}), 1), 3.75);
  EXPECT_DOUBLE_EQ(costs.duration(compute(Op::kF, 0), 0), 1.0);
}

TEST(CheckCostModel, AcceptsSensibleCosts) {
  CostModel costs = uniform_cost_model(1.0, 2.0, 1.0, 2.5, 0.1);
  costs.rank_slowdown = {1.0, 2.0};
  EXPECT_EQ(error_of([&] { check_cost_model(costs); }), "no error");
}

TEST(CheckCostModel, NamesANegativeDuration) {
  const CostModel costs = uniform_cost_model(-1.0, 2.0, 1.0, 2.5);
  EXPECT_NE(error_of([&] { check_cost_model(costs); }).find("stage.forward"), std::string::npos);
}

TEST(CheckCostModel, RejectsNonFiniteDurations) {
  CostModel costs;
  costs.stages = {StageCosts{1, 2, 1, std::numeric_limits<double>::quiet_NaN()}};
  EXPECT_NE(error_of([&] { check_cost_model(costs); }).find("stages[0].overlapped"),
            std::string::npos);
}

TEST(CheckCostModel, RejectsAWeightPartLargerThanItsBackward) {
  const CostModel costs = uniform_cost_model(1.0, 2.0, 3.0, 2.5);
  EXPECT_NE(error_of([&] { check_cost_model(costs); }).find("stage.weight"), std::string::npos);
}

TEST(CheckCostModel, RejectsANonPositiveSlowdown) {
  CostModel costs;
  costs.rank_slowdown = {1.0, 0.0};
  EXPECT_NE(error_of([&] { check_cost_model(costs); }).find("rank_slowdown[1]"), std::string::npos);
}

TEST(CheckCostModel, RejectsNegativeP2PLatency) {
  const CostModel costs = uniform_cost_model(1.0, 2.0, 1.0, 2.5, -0.1);
  EXPECT_NE(error_of([&] { check_cost_model(costs); }).find("p2p.latency"), std::string::npos);
}

}  // namespace
}  // namespace dualpipe::schedule
