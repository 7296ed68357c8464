// examples/train_moe_lm on four CPU processes (pp 2 x dp 2 x ep 2, DualPipe): the loss falls, the
// first steps equal one process training the whole model, a resumed run continues exactly, and a
// missing corpus is one line on every rank.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include "worker_launcher.h"

namespace dualpipe::runtime {
namespace {

namespace fs = std::filesystem;
using testing::JobOutcome;
using testing::run_job;

// A small model and short sequences: a few seconds a step in a Debug build.
std::vector<std::string> train(const std::vector<std::string>& flags) {
  std::vector<std::string> command{TRAIN_MOE_LM_BINARY,
                                   "--pp",
                                   "2",
                                   "--dp",
                                   "2",
                                   "--ep",
                                   "2",
                                   "--schedule",
                                   "dualpipe",
                                   "--seq",
                                   "32",
                                   "--hidden",
                                   "32",
                                   "--expert-hidden",
                                   "32",
                                   "--shared-hidden",
                                   "32",
                                   "--dense-ffn-hidden",
                                   "64",
                                   "--log-every",
                                   "3",
                                   "--sample-bytes",
                                   "8"};
  command.insert(command.end(), flags.begin(), flags.end());
  return command;
}

// The training loss printed for `step`, or -1.
double train_loss(const std::string& output, int step) {
  std::smatch match;
  const std::regex line("step " + std::to_string(step) +
                        " train_loss ([0-9.]+) val_loss ([0-9.]+)");
  return std::regex_search(output, match, line) ? std::stod(match[1]) : -1;
}

// The losses printed for `step` ("train_loss X val_loss Y"), or "".
std::string losses(const std::string& output, int step) {
  std::smatch match;
  const std::regex line("step " + std::to_string(step) + " (train_loss [0-9.]+ val_loss [0-9.]+)");
  return std::regex_search(output, match, line) ? std::string(match[1]) : "";
}

// The default corpus, Debian's license texts, is on every Debian machine.
bool have_corpus() { return fs::is_directory("/usr/share/common-licenses"); }

fs::path scratch(const std::string& name) {
  return fs::temp_directory_path() / ("dualpipe-train-moe-lm-" + name);
}

TEST(TrainMoeLm, TheLossFallsAndTheFirstStepsEqualOneProcess) {
  if (!testing::kHaveGloo || !have_corpus()) GTEST_SKIP() << "needs Gloo and the license texts";
  const fs::path out = scratch("check");
  const JobOutcome job = run_job(4,
                                 train({"--steps", "6", "--check", "--zero", "on", "--recompute",
                                        "on", "--out", out.string()}),
                                 std::chrono::seconds(400));
  ASSERT_TRUE(job.all_succeeded()) << job.report();
  const std::string& output = job.workers[0].output;
  EXPECT_NE(output.find("check: losses equal"), std::string::npos) << output;
  std::smatch match;
  ASSERT_TRUE(std::regex_search(output, match, std::regex("max_rel_param_diff ([0-9.e+-]+)")));
  EXPECT_LE(std::stod(match[1]), 1e-12) << output;
  EXPECT_GT(train_loss(output, 3), 0) << output;
  EXPECT_LT(train_loss(output, 6), train_loss(output, 3)) << output;
  for (const char* file : {"loss.svg", "sample.txt", "trace.rank0.json", "trace.rank3.json"})
    EXPECT_TRUE(fs::exists(out / file)) << file;
  // Steps 4 and 5 are timed; step 6, profiled, is not.
  EXPECT_NE(output.find("timing: step_ms_median "), std::string::npos) << output;
  EXPECT_NE(output.find(" over the last 2 steps"), std::string::npos) << output;
}

TEST(TrainMoeLm, AResumedRunContinuesExactly) {
  if (!testing::kHaveGloo || !have_corpus()) GTEST_SKIP() << "needs Gloo and the license texts";
  const fs::path checkpoints = scratch("checkpoints");
  fs::remove_all(checkpoints);
  const std::vector<std::string> common{"--dtype", "float64", "--replan-every",
                                        "3",       "--out",   scratch("resume").string()};
  const auto with = [&](std::vector<std::string> flags) {
    flags.insert(flags.end(), common.begin(), common.end());
    return train(flags);
  };
  const JobOutcome straight = run_job(4, with({"--steps", "6"}), std::chrono::seconds(400));
  ASSERT_TRUE(straight.all_succeeded()) << straight.report();
  const JobOutcome first =
      run_job(4, with({"--steps", "3", "--save-every", "3", "--checkpoints", checkpoints.string()}),
              std::chrono::seconds(400));
  ASSERT_TRUE(first.all_succeeded()) << first.report();
  const JobOutcome resumed = run_job(4, with({"--steps", "6", "--resume", checkpoints.string()}),
                                     std::chrono::seconds(400));
  ASSERT_TRUE(resumed.all_succeeded()) << resumed.report();
  const std::string expected = losses(straight.workers[0].output, 6);
  ASSERT_FALSE(expected.empty()) << straight.workers[0].output;
  EXPECT_EQ(losses(resumed.workers[0].output, 6), expected) << resumed.workers[0].output;
  EXPECT_EQ(losses(resumed.workers[0].output, 3), "") << "the resumed run starts after step 3";
}

TEST(TrainMoeLm, AMissingCorpusIsOneLineAndExitCode2OnEveryRank) {
  if (!testing::kHaveGloo) GTEST_SKIP() << "needs Gloo";
  const JobOutcome job = run_job(4, train({"--corpus", "/nonexistent/text", "--steps", "1"}));
  ASSERT_FALSE(job.timed_out);
  for (const auto& worker : job.workers) {
    EXPECT_EQ(worker.exit_code, 2) << worker.output;
    EXPECT_EQ(worker.output, "train_moe_lm: corpus /nonexistent/text: no such file or folder\n");
  }
}

}  // namespace
}  // namespace dualpipe::runtime
