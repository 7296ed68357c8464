// examples/moe_eplb_loop on two CPU processes: training with a skewed router, re-planning with
// EPLB and training on must balance the tokens per GPU and keep every loss finite.
#include <gtest/gtest.h>

#include <algorithm>
#include <regex>
#include <string>
#include <vector>

#include "worker_launcher.h"

namespace dualpipe::runtime {
namespace {

using testing::JobOutcome;
using testing::run_job;

std::vector<std::string> loop(const std::vector<std::string>& flags) {
  std::vector<std::string> command{
      MOE_EPLB_LOOP_BINARY, "--steps", "8", "--tokens", "64", "--seq", "16", "--hidden", "32",
      "--ffn-hidden",       "32"};
  command.insert(command.end(), flags.begin(), flags.end());
  return command;
}

// The max/mean tokens per GPU printed on the line starting with `phase` ("before"/"after").
double max_over_mean(const std::string& output, const std::string& phase) {
  const std::regex line(phase + "\\s+re-planning: max \\d+\\s+mean \\d+\\s+max/mean ([0-9.]+)");
  std::smatch match;
  if (!std::regex_search(output, match, line)) return -1;
  return std::stod(match[1]);
}

TEST(MoeEplbLoop, RePlanningBalancesTheTokensPerGpu) {
  if (!testing::kHaveGloo) GTEST_SKIP() << "needs Gloo";
  const JobOutcome job = run_job(2, loop({}), std::chrono::seconds(240));
  ASSERT_TRUE(job.all_succeeded()) << job.report();
  const std::string& out = job.workers[0].output;
  const double before = max_over_mean(out, "before");
  const double after = max_over_mean(out, "after ");
  EXPECT_GT(before, 1.5) << out;  // the skewed router sends most tokens to one GPU's experts
  EXPECT_GT(after, 0.99) << out;
  EXPECT_LT(after, 1.1) << out;
  EXPECT_NE(out.find("steps with a non-finite loss (rank 0): before 0, after 0"), std::string::npos)
      << out;
  EXPECT_EQ(job.workers[1].output, "") << "only rank 0 prints";
}

TEST(MoeEplbLoop, RejectsOneProcessBeforeTrainingWithOneLineAndExitCode2) {
  const JobOutcome job = run_job(1, loop({}));
  ASSERT_FALSE(job.timed_out);
  const std::string& out = job.workers[0].output;
  EXPECT_EQ(job.workers[0].exit_code, 2) << out;
  EXPECT_EQ(out.rfind("moe_eplb_loop: ", 0), 0u) << out;
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
  EXPECT_EQ(out.find("step"), std::string::npos) << "no training before the error: " << out;
}

TEST(MoeEplbLoop, RejectsBadFlagsWithOneLineAndExitCode2) {
  for (const std::vector<std::string>& flags : {std::vector<std::string>{"--print-every", "0"},
                                                {"--seq", "7"},
                                                {"--bogus", "1"},
                                                {"--comm-backend", "mpi"}}) {
    const JobOutcome job = run_job(1, loop(flags));
    ASSERT_FALSE(job.timed_out);
    const std::string& out = job.workers[0].output;
    EXPECT_EQ(job.workers[0].exit_code, 2) << flags[0] << ": " << out;
    EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
  }
}

}  // namespace
}  // namespace dualpipe::runtime
