#include "dualpipe/trace/step_prediction.h"

#include <gtest/gtest.h>

#include <cmath>

#include "synthetic_trace.h"

namespace dualpipe::trace {
namespace {

using testing::SyntheticTrace;

// GPipe on two ranks, one micro-batch: F on rank 0, its activation to rank 1, F and B there, the
// gradient back, B on rank 0. Every action's kernel runs as soon as its input is there, plus a
// host gap of `late` us before rank 1's backward.
std::vector<SyntheticTrace> pipeline(double late) {
  SyntheticTrace rank0(0);
  rank0.annotation("dualpipe:F s0 m0 d0", 0, 5)
      .compute(10, 100, 2)
      .annotation("dualpipe:SEND_F s0 m0 d0 p1", 6, 5)
      .send(1, 110, 20, 8)
      .annotation("dualpipe:RECV_B s0 m0 d0 p1", 12, 5)
      .receive(1, 115, 225 + late + 30 - 115, 14)
      .annotation("dualpipe:B s0 m0 d0", 18, 5)
      .compute(225 + late + 30, 200, 20);
  SyntheticTrace rank1(1);
  rank1.annotation("dualpipe:RECV_F s1 m0 d0 p0", 0, 5)
      .receive(0, 12, 118, 2)
      .annotation("dualpipe:F s1 m0 d0", 6, 5)
      .compute(130, 95, 8)
      .annotation("dualpipe:B s1 m0 d0", 225 + late - 10, 5)
      .compute(225 + late, 10, 225 + late - 8)
      .annotation("dualpipe:SEND_B s1 m0 d0 p0", 225 + late - 4, 3)
      .send(0, 235 + late, 20, 225 + late - 3);
  return {rank0, rank1};
}

TEST(PredictStep, MatchesARunWithoutHostGapsWithinItsTransfers) {
  const auto run = testing::analyse(pipeline(0));
  ASSERT_TRUE(run.analysis.prediction.prediction) << run.analysis.prediction.problem;
  const StepPrediction& p = *run.analysis.prediction.prediction;
  EXPECT_EQ(p.messages, 2);
  EXPECT_NEAR(p.p2p_ms, 0.020, 1e-9);  // both receives moved data for 20 us
  EXPECT_NEAR(p.measured_ms, 0.445, 1e-9);
  EXPECT_NEAR(p.simulated_ms, p.measured_ms, 1e-9);
  EXPECT_TRUE(p.unmodelled.empty());
}

TEST(PredictStep, SaysAHostGapIsWhatTheSimulatorMisses) {
  const auto run = testing::analyse(pipeline(500));
  const StepPrediction& p = *run.analysis.prediction.prediction;
  EXPECT_NEAR(p.measured_ms, 0.945, 1e-9);
  EXPECT_NEAR(p.simulated_ms, 0.445, 1e-9);
  // The host's 500 us come back (rank 1 also idled 2 us waiting for a launch at the start).
  EXPECT_NEAR(p.simulated_with_host_ms, p.measured_ms + 0.002, 1e-9);
  ASSERT_FALSE(p.largest.empty());
  EXPECT_EQ(p.largest[0].rank, 1);
  EXPECT_EQ(p.largest[0].action, "B s1 m0 d0");
  EXPECT_NEAR(p.largest[0].added_ms, 0.5, 1e-9);
  EXPECT_NEAR(p.largest[0].host_gap_ms, 0.492, 1e-9);  // then 8 us from its launch to its start
  EXPECT_NE(p.unmodelled.find("does not model the host"), std::string::npos) << p.unmodelled;
}

TEST(PredictStep, NeedsTheToolkitsActionAnnotations) {
  SyntheticTrace rank(0, 1);
  rank.compute(0, 10, -1);
  const auto run = testing::analyse({rank});
  EXPECT_FALSE(run.analysis.prediction.prediction);
  EXPECT_TRUE(run.analysis.prediction.problem.empty());
}

}  // namespace
}  // namespace dualpipe::trace
