#include "dualpipe/runtime/rank_agreement.h"

#include <gtest/gtest.h>
#include <torch/csrc/distributed/c10d/HashStore.hpp>

#include <atomic>
#include <thread>

#include "worker_launcher.h"

namespace dualpipe::runtime {
namespace {

TEST(FingerprintOf, IsStableAndFitsInSixtyTwoBits) {
  EXPECT_EQ(fingerprint_of("dualpipe"), fingerprint_of("dualpipe"));
  EXPECT_NE(fingerprint_of("dualpipe"), fingerprint_of("dualpipev"));
  EXPECT_LT(fingerprint_of("x"), uint64_t{1} << 62);
}

TEST(Agree, TellsEveryRankWhichRankDisagreesOrFailed) {
  if (!testing::kHaveGloo) GTEST_SKIP() << "needs Gloo for CPU process groups";
  const testing::JobOutcome job = testing::run_workers(3, {"agreement"}, std::chrono::seconds(60));
  ASSERT_TRUE(job.all_succeeded()) << job.report();
  for (const testing::WorkerOutcome& worker : job.workers) {
    EXPECT_NE(worker.output.find("CAUGHT: ranks disagree on the step: ranks 0,2 run the same step; "
                                 "rank 1 runs another step"),
              std::string::npos)
        << worker.output;
    EXPECT_NE(worker.output.find("CAUGHT: rank 0: no inputs"), std::string::npos) << worker.output;
  }
}

TEST(AgreeOnSettings, NamesTheSettingThatDiffersAndTheRankThatFailedOnEveryRank) {
  if (!testing::kHaveGloo) GTEST_SKIP() << "needs Gloo for CPU process groups";
  const testing::JobOutcome job = testing::run_workers(3, {"settings"}, std::chrono::seconds(60));
  ASSERT_TRUE(job.all_succeeded()) << job.report();
  for (const testing::WorkerOutcome& worker : job.workers) {
    EXPECT_NE(worker.output.find("CAUGHT: ranks disagree on --steps (ranks 0,2: 2; rank 1: 3)\n"),
              std::string::npos)
        << worker.output;
    EXPECT_NE(worker.output.find("CAUGHT: rank 2: plan.json: cannot open\n"), std::string::npos)
        << worker.output;
  }
}

TEST(AllGatherText, NamesTheRankThatNeverArrivedAndTheExchange) {
  if (!testing::kHaveGloo) GTEST_SKIP() << "needs Gloo for CPU process groups";
  const testing::JobOutcome job =
      testing::run_workers(2, {"exchange-lost-peer", "timeout_ms=2000"}, std::chrono::seconds(60));
  ASSERT_FALSE(job.timed_out) << job.report();
  EXPECT_EQ(job.workers[0].exit_code, 0) << job.report();
  EXPECT_NE(job.workers[0].output.find(
                "CAUGHT: rank 0: rank 1 did not reach 'check/lost' within 2 s (it failed, exited "
                "or is slower)"),
            std::string::npos)
      << job.report();
}

TEST(LeaveStore, RankZeroReturnsOnlyAfterEveryOtherRankHasLeft) {
  const auto store = c10::make_intrusive<c10d::HashStore>();
  const std::chrono::milliseconds timeout = std::chrono::seconds(60);
  std::atomic<int> left{0};
  std::thread others([&] {
    for (int rank = 1; rank < 3; ++rank) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // rank 0 is waiting by now
      ++left;
      leave_store(StoreExchange{store, rank, 3, timeout});
    }
  });
  leave_store(StoreExchange{store, 0, 3, timeout});
  EXPECT_EQ(left.load(), 2);
  others.join();
}

TEST(LeaveStore, GivesUpOnAMissingRankAfterTheTimeoutWithoutThrowing) {
  const auto store = c10::make_intrusive<c10d::HashStore>();
  EXPECT_NO_THROW(leave_store(StoreExchange{store, 0, 2, std::chrono::milliseconds(100)}));
}

}  // namespace
}  // namespace dualpipe::runtime
