#include "dualpipe/runtime/pipeline.h"

#include <gtest/gtest.h>

#include <string>

#include "worker_launcher.h"

namespace dualpipe::runtime {
namespace {

using testing::JobOutcome;
using testing::run_workers;

// Every rank's output contains `text`.
::testing::AssertionResult every_rank_says(const JobOutcome& job, const std::string& text) {
  if (!job.all_succeeded()) return ::testing::AssertionFailure() << job.report();
  for (std::size_t r = 0; r < job.workers.size(); ++r) {
    if (job.workers[r].output.find(text) == std::string::npos) {
      return ::testing::AssertionFailure() << "rank " << r << " does not say \"" << text << "\"\n"
                                           << job.report();
    }
  }
  return ::testing::AssertionSuccess();
}

TEST(LocalStageSlots, FollowsEachSchedulesPlacement) {
  EXPECT_EQ(local_stage_slots("dualpipe", 4, 1),
            (std::vector<std::pair<int, int>>{{0, 1}, {1, 2}}));
  EXPECT_EQ(local_stage_slots("dualpipev", 4, 1),
            (std::vector<std::pair<int, int>>{{0, 1}, {0, 6}}));
  EXPECT_EQ(local_stage_slots("interleaved-1f1b", 2, 1, 2),
            (std::vector<std::pair<int, int>>{{0, 1}, {0, 3}}));
  EXPECT_EQ(local_stage_slots("1f1b", 4, 3), (std::vector<std::pair<int, int>>{{0, 3}}));
}

const char* kEverySchedule = "schedules=dualpipe,dualpipev,1f1b,zb1p,interleaved-1f1b,gpipe";

TEST(Pipeline, MatchesTheSequentialStepOnTwoRanksForEverySchedule) {
  if (!testing::kHaveGloo) GTEST_SKIP() << "needs Gloo for CPU process groups";
  EXPECT_TRUE(every_rank_says(run_workers(2, {"pipeline-check", kEverySchedule}), "OK gpipe"));
}

TEST(Pipeline, MatchesTheSequentialStepOnFourRanksForEverySchedule) {
  if (!testing::kHaveGloo) GTEST_SKIP() << "needs Gloo for CPU process groups";
  EXPECT_TRUE(every_rank_says(run_workers(4, {"pipeline-check", kEverySchedule}), "OK gpipe"));
}

TEST(Pipeline, MatchesTheSequentialStepOnEightRanksForEverySchedule) {
  if (!testing::kHaveGloo) GTEST_SKIP() << "needs Gloo for CPU process groups";
  EXPECT_TRUE(every_rank_says(
      run_workers(8, {"pipeline-check", kEverySchedule}, std::chrono::seconds(240)), "OK gpipe"));
}

TEST(Pipeline, MatchesTheSequentialStepWithMoreMicrobatchesThanTheMinimum) {
  if (!testing::kHaveGloo) GTEST_SKIP() << "needs Gloo for CPU process groups";
  EXPECT_TRUE(every_rank_says(
      run_workers(4, {"pipeline-check", "schedules=dualpipe,dualpipev,zb1p", "microbatches=16"}),
      "OK zb1p"));
}

TEST(Pipeline, ReportsAMismatchedMicrobatchCountOnEveryRank) {
  if (!testing::kHaveGloo) GTEST_SKIP() << "needs Gloo for CPU process groups";
  EXPECT_TRUE(every_rank_says(run_workers(4, {"mismatched-microbatches"}, std::chrono::seconds(60)),
                              "CAUGHT: pipeline step 0: ranks disagree on the step"));
}

TEST(Pipeline, ReportsAMismatchedActivationShapeOnEveryRank) {
  if (!testing::kHaveGloo) GTEST_SKIP() << "needs Gloo for CPU process groups";
  const JobOutcome job = run_workers(4, {"mismatched-layout"}, std::chrono::seconds(60));
  EXPECT_TRUE(every_rank_says(job, "CAUGHT: pipeline step 0: ranks disagree on the step"));
  EXPECT_TRUE(every_rank_says(job, "activations [Double 2x4x8]"));
}

TEST(Pipeline, ReportsAStageThatFailsMidStepOnEveryRankAndRecovers) {
  if (!testing::kHaveGloo) GTEST_SKIP() << "needs Gloo for CPU process groups";
  EXPECT_TRUE(every_rank_says(
      run_workers(4, {"stage-error", "schedule=dualpipe"}, std::chrono::seconds(60)),
      "CAUGHT: pipeline step 0 failed: rank 0: F s0 m0 d0: "));
  EXPECT_TRUE(
      every_rank_says(run_workers(2, {"stage-error", "schedule=zb1p"}, std::chrono::seconds(60)),
                      "CAUGHT: pipeline step 0 failed: rank 0: F s0 m0 d0: "));
}

TEST(Pipeline, ReportsACriterionThatFailsOnEveryRankWhenLayoutsAreCached) {
  if (!testing::kHaveGloo) GTEST_SKIP() << "needs Gloo for CPU process groups";
  EXPECT_TRUE(every_rank_says(run_workers(4, {"criterion-error"}, std::chrono::seconds(60)),
                              "criterion refuses"));
}

TEST(Pipeline, TurnsALostPeerIntoAnErrorInsteadOfAHang) {
  if (!testing::kHaveGloo) GTEST_SKIP() << "needs Gloo for CPU process groups";
  const JobOutcome job = run_workers(3, {"lost-peer", "timeout_ms=3000"}, std::chrono::seconds(60));
  ASSERT_FALSE(job.timed_out) << job.report();
  for (int r = 0; r < 2; ++r) {
    EXPECT_EQ(job.workers[static_cast<std::size_t>(r)].exit_code, 0) << job.report();
    EXPECT_NE(job.workers[static_cast<std::size_t>(r)].output.find("CAUGHT: "), std::string::npos)
        << job.report();
  }
  EXPECT_EQ(job.workers[2].exit_code, 3);
}

TEST(Pipeline, GivesUpOnASilentPeerAfterTheTimeout) {
  if (!testing::kHaveGloo) GTEST_SKIP() << "needs Gloo for CPU process groups";
  const JobOutcome job =
      run_workers(3, {"silent-peer", "timeout_ms=2000"}, std::chrono::seconds(60));
  ASSERT_FALSE(job.timed_out) << job.report();
  for (int r = 0; r < 2; ++r) {
    EXPECT_EQ(job.workers[static_cast<std::size_t>(r)].exit_code, 0) << job.report();
    EXPECT_NE(job.workers[static_cast<std::size_t>(r)].output.find(
                  "CAUGHT: pipeline step 0: rank " + std::to_string(r) +
                  " lost contact with the other ranks: "),
              std::string::npos)
        << job.report();
  }
}

}  // namespace
}  // namespace dualpipe::runtime
