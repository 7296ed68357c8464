#include "dualpipe/runtime/rank_agreement.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace dualpipe::runtime
