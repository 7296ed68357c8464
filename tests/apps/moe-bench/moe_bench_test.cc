// moe-bench end to end: JSON line with a passing --check, per-rank traces, recorded loads that
// eplb-plan reads, placements from a plan file, and one-line errors with exit code 2.
#include <gtest/gtest.h>
#include <torch/cuda.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "check_line.h"
#include "dualpipe/eplb/load_reader.h"
#include "help_text.h"
#include "text_file.h"
#include "worker_launcher.h"

namespace dualpipe::runtime {
namespace {

using testing::JobOutcome;
using testing::run_job;
using testing::run_job_with;
using testing_support::max_rel_grad_diff;

std::vector<std::string> bench(const std::vector<std::string>& flags) {
  std::vector<std::string> command{MOE_BENCH_BINARY,
                                   "--hidden",
                                   "16",
                                   "--ffn-hidden",
                                   "8",
                                   "--experts",
                                   "4",
                                   "--topk",
                                   "2",
                                   "--tokens",
                                   "16",
                                   "--seq",
                                   "4",
                                   "--heads",
                                   "2",
                                   "--layers",
                                   "2",
                                   "--dtype",
                                   "float64",
                                   "--steps",
                                   "2",
                                   "--warmup",
                                   "1"};
  command.insert(command.end(), flags.begin(), flags.end());
  return command;
}

void write_file(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

TEST(MoeBench, PrintsOneJsonLineWithAnExactCheckWritesTracesAndLoads) {
  if (!testing::kHaveGloo) GTEST_SKIP() << "needs Gloo for CPU process groups";
  const std::string trace = ::testing::TempDir() + "moe_bench_trace.json";
  const std::string sequential = ::testing::TempDir() + "moe_bench_sequential.json";
  const std::string loads = ::testing::TempDir() + "moe_bench_loads.json";
  // --weight-phases on: both W phases, so the trace has every phase of DeepSeek's.
  const JobOutcome job =
      run_job(2, bench({"--check", "--weight-phases", "on", "--profile", trace,
                        "--profile-sequential", sequential, "--record-loads", loads}));
  ASSERT_TRUE(job.all_succeeded()) << job.report();
  const std::string& line = job.workers[0].output;
  EXPECT_EQ(line.find("{\"bench\": \"moe\", \"ranks\": 2, \"device\": \"cpu\""), 0u) << line;
  EXPECT_NE(line.find("\"pair_ms_overlapped_median\": "), std::string::npos) << line;
  EXPECT_NE(line.find("\"overlapped_over_sequential\": "), std::string::npos) << line;
  EXPECT_NE(line.find("\"check\": {\"max_rel_grad_diff\": 0, \"rerun_rel_grad_diff\": 0}"),
            std::string::npos)
      << line;
  EXPECT_EQ(std::count(line.begin(), line.end(), '\n'), 1) << line;
  EXPECT_TRUE(job.workers[1].output.empty()) << job.workers[1].output;
  const std::vector<std::string> traces{trace, ::testing::TempDir() + "moe_bench_trace.rank1.json"};
  for (std::size_t rank = 0; rank < traces.size(); ++rank) {
    const std::string text = testing_support::read_text_file(traces[rank]);
    EXPECT_NE(text.find("\"distributedInfo\": {\"rank\": " + std::to_string(rank)),
              std::string::npos);
    for (const char* phase : {"attn(F)", "dispatch(F)", "mlp(F)", "combine(F)", "attn(B)",
                              "dispatch(B)", "mlp(B)", "combine(B)", "attn(W)", "mlp(W)"}) {
      EXPECT_NE(text.find(std::string("\"name\": \"") + phase + "\""), std::string::npos) << phase;
    }
    std::remove(traces[rank].c_str());
  }
  // The forward-then-backward pair has every forward and backward phase and no W phase.
  const std::string sequential_text = testing_support::read_text_file(sequential);
  EXPECT_NE(sequential_text.find("\"name\": \"dispatch(B)\""), std::string::npos);
  EXPECT_EQ(sequential_text.find("\"name\": \"mlp(W)\""), std::string::npos);
  std::remove(sequential.c_str());
  std::remove((::testing::TempDir() + "moe_bench_sequential.rank1.json").c_str());
  // One step per timed or untimed pair of either mode: (1 + 2) x 2; each of 2 x 16 tokens picks
  // 2 experts in each of the 2 layers.
  const eplb::LoadSeries series = eplb::parse_loads(testing_support::read_text_file(loads), loads);
  ASSERT_EQ(series.size(), 6u);
  EXPECT_EQ(series[0].rows(), 2);
  EXPECT_EQ(series[0].cols(), 4);
  EXPECT_FLOAT_EQ(series[3].row(1).sum(), 2 * 2 * 16 * 2);
  std::remove(loads.c_str());
}

TEST(MoeBench, PlacesExpertsFromAnEplbPlan) {
  if (!testing::kHaveGloo) GTEST_SKIP() << "needs Gloo for CPU process groups";
  const std::string plan = ::testing::TempDir() + "moe_bench_plan.json";
  write_file(plan, "{\"phy2log\": [[0, 1, 2, 3, 0, 3], [3, 2, 1, 0, 1, 2]]}\n");
  const JobOutcome job = run_job(2, bench({"--placement", plan, "--check"}));
  ASSERT_TRUE(job.all_succeeded()) << job.report();
  EXPECT_NE(job.workers[0].output.find("\"slots\": 6"), std::string::npos) << job.workers[0].output;
  EXPECT_NE(job.workers[0].output.find("\"max_rel_grad_diff\": 0, "), std::string::npos);
  std::remove(plan.c_str());
}

TEST(MoeBench, DefersOnlyTheNamedWeightPhasesAndStaysExact) {
  if (!testing::kHaveGloo) GTEST_SKIP() << "needs Gloo for CPU process groups";
  for (const std::string phases : {"mlp", "off"}) {
    const JobOutcome job = run_job(2, bench({"--weight-phases", phases, "--check"}));
    ASSERT_TRUE(job.all_succeeded()) << phases << ": " << job.report();
    EXPECT_NE(job.workers[0].output.find("\"max_rel_grad_diff\": 0, "), std::string::npos)
        << phases << ": " << job.workers[0].output;
  }
}

TEST(MoeBench, BackwardFirstPairsStayExact) {
  if (!testing::kHaveGloo) GTEST_SKIP() << "needs Gloo for CPU process groups";
  const JobOutcome job =
      run_job(2, bench({"--pair-order", "backward", "--weight-phases", "mlp", "--check"}));
  ASSERT_TRUE(job.all_succeeded()) << job.report();
  EXPECT_NE(job.workers[0].output.find("\"max_rel_grad_diff\": 0, "), std::string::npos)
      << job.workers[0].output;
}

// Two expert-parallel ranks sharing one GPU, the all-to-alls over Gloo through host memory:
// overlapped pairs (phases on compute and communication streams) equal sequential ones, with one
// copy of each expert and with replicas from a plan.
TEST(MoeBench, OverlapsPairsOnRanksSharingAGpuOverGloo) {
  if (!testing::kHaveGloo) GTEST_SKIP() << "needs Gloo";
  if (!torch::cuda::is_available()) GTEST_SKIP() << "needs a CUDA device";
  const std::string plan = ::testing::TempDir() + "moe_bench_gpu_plan.json";
  write_file(plan, "{\"phy2log\": [[0, 1, 2, 3, 0, 3], [3, 2, 1, 0, 1, 2]]}\n");
  for (const std::vector<std::string>& placement :
       {std::vector<std::string>{}, std::vector<std::string>{"--placement", plan}}) {
    std::vector<std::string> flags{"--device", "cuda", "--comm-backend", "gloo", "--check"};
    flags.insert(flags.end(), placement.begin(), placement.end());
    const JobOutcome job = run_job(2, bench(flags), std::chrono::seconds(300));
    ASSERT_TRUE(job.all_succeeded()) << job.report();
    const std::string& line = job.workers[0].output;
    EXPECT_EQ(line.find("{\"bench\": \"moe\", \"ranks\": 2, \"device\": \"cuda:0\""), 0u) << line;
    EXPECT_LE(max_rel_grad_diff(line), 1e-12) << line;
  }
  std::remove(plan.c_str());
}

TEST(MoeBench, RejectsAPlanThatLeavesAnExpertOutWithOneLineAndExitCode2) {
  const std::string plan = ::testing::TempDir() + "moe_bench_bad_plan.json";
  write_file(plan, "{\"phy2log\": [[0, 1, 2, 2], [0, 1, 2, 3]]}\n");
  const JobOutcome job = run_job(2, bench({"--placement", plan}));
  ASSERT_FALSE(job.timed_out);
  for (const auto& worker : job.workers) {
    EXPECT_EQ(worker.exit_code, 2);
    EXPECT_EQ(worker.output.rfind("moe-bench: " + plan + ": ", 0), 0u) << worker.output;
    EXPECT_NE(worker.output.find("expert 3"), std::string::npos) << worker.output;
    EXPECT_EQ(std::count(worker.output.begin(), worker.output.end(), '\n'), 1) << worker.output;
  }
  std::remove(plan.c_str());
}

TEST(MoeBench, HelpGroupsTheOptionsAndShowsTheirDefaults) {
  const JobOutcome job = run_job(1, {MOE_BENCH_BINARY, "--help"});
  ASSERT_TRUE(job.all_succeeded()) << job.report();
  const std::string& help = job.workers[0].output;
  for (const char* expected : {"\nModel size:\n", "\nOverlap:\n", "\nDevice:\n", "\nRun:\n",
                               "\nInput:\n", "\nOutput:\n"}) {
    EXPECT_NE(help.find(expected), std::string::npos) << expected << "\n" << help;
  }
  for (const char* value : {"4096", "float32", "300"}) {
    EXPECT_TRUE(testing_support::shows_default(help, value)) << value << "\n" << help;
  }
}

TEST(MoeBench, RejectsBadFlagsWithOneLineAndExitCode2) {
  for (const std::vector<std::string>& flags : {std::vector<std::string>{"--dtype", "float16"},
                                                {"--tokens", "10", "--seq", "4"},
                                                {"--placement", "/nonexistent/plan.json"}}) {
    const JobOutcome job = run_job(1, bench(flags));
    ASSERT_FALSE(job.timed_out);
    EXPECT_EQ(job.workers[0].exit_code, 2) << flags[0];
    EXPECT_EQ(job.workers[0].output.rfind("moe-bench: ", 0), 0u) << job.workers[0].output;
    EXPECT_EQ(std::count(job.workers[0].output.begin(), job.workers[0].output.end(), '\n'), 1)
        << job.workers[0].output;
  }
}

TEST(MoeBench, RanksThatDisagreeOnAFlagAllStopNamingIt) {
  if (!testing::kHaveGloo) GTEST_SKIP() << "needs Gloo for CPU process groups";
  const JobOutcome job = run_job_with(2, bench({}), 1, {"--seed", "5"});
  ASSERT_FALSE(job.timed_out) << job.report();
  for (const auto& worker : job.workers) {
    EXPECT_EQ(worker.exit_code, 2) << job.report();
    EXPECT_EQ(worker.output, "moe-bench: ranks disagree on --seed (rank 0: 0; rank 1: 5)\n");
  }
}

// Rank 0 cannot write the loads: no rank writes anything (rank 1's trace neither), and every rank
// says why.
TEST(MoeBench, AnOutputThatOneRankCannotWriteFailsOnEveryRank) {
  if (!testing::kHaveGloo) GTEST_SKIP() << "needs Gloo for CPU process groups";
  const std::string trace = ::testing::TempDir() + "moe_bench_agreed.json";
  const std::string loads = ::testing::TempDir() + "nodir/loads.json";
  const JobOutcome job = run_job(2, bench({"--profile", trace, "--record-loads", loads}));
  ASSERT_FALSE(job.timed_out) << job.report();
  for (const auto& worker : job.workers) {
    EXPECT_EQ(worker.exit_code, 2) << job.report();
    EXPECT_EQ(worker.output,
              "moe-bench: rank 0: " + loads + ": cannot write: No such file or directory\n");
  }
  EXPECT_FALSE(std::ifstream(trace).good());
  EXPECT_FALSE(std::ifstream(::testing::TempDir() + "moe_bench_agreed.rank1.json").good());
}

TEST(MoeBench, RefusesTokensBeyondMemoryWithAnEstimate) {
  std::vector<std::string> command = bench({});
  *(std::find(command.begin(), command.end(), "--tokens") + 1) = "1000000000";
  const JobOutcome job = run_job(1, command);
  ASSERT_FALSE(job.timed_out);
  const std::string& output = job.workers[0].output;
  EXPECT_EQ(job.workers[0].exit_code, 2);
  EXPECT_EQ(output.rfind("moe-bench: the stage's size (--tokens 1000000000, --hidden 16, ", 0), 0u)
      << output;
  EXPECT_NE(output.find("(estimate), more than the "), std::string::npos) << output;
}

}  // namespace
}  // namespace dualpipe::runtime
