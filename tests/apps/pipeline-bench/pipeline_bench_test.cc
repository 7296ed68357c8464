// pipeline-bench end to end: JSON line, --check, --profile, and one-line errors with exit code 2.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <torch/cuda.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "check_line.h"
#include "help_text.h"
#include "text_file.h"
#include "worker_launcher.h"

namespace dualpipe::runtime {
namespace {

using testing::JobOutcome;
using testing::run_job;
using testing::run_job_with;
using testing::SilentListener;
using testing::WorkerOutcome;
using testing_support::max_rel_grad_diff;

// The number after `name` ("max_rel_param_diff", "max_rel_loss_diff") in a --check of training
// mode, or 1 when absent.
double check_figure(const std::string& line, const std::string& name) {
  const std::string key = "\"" + name + "\": ";
  const std::size_t at = line.find(key);
  return at == std::string::npos ? 1.0 : std::stod(line.substr(at + key.size()));
}

std::vector<std::string> bench(const std::vector<std::string>& flags) {
  std::vector<std::string> command{PIPELINE_BENCH_BINARY,
                                   "--hidden",
                                   "16",
                                   "--seq",
                                   "4",
                                   "--microbatch-size",
                                   "2",
                                   "--microbatches",
                                   "4",
                                   "--dtype",
                                   "float64",
                                   "--device",
                                   "cpu",
                                   "--steps",
                                   "2",
                                   "--warmup",
                                   "1"};
  command.insert(command.end(), flags.begin(), flags.end());
  return command;
}

TEST(PipelineBench, PrintsOneJsonLineWithAPassingCheckAndWritesATracePerRank) {
  if (!testing::kHaveGloo) GTEST_SKIP() << "needs Gloo for CPU process groups";
  const std::string trace = ::testing::TempDir() + "pipeline_bench_trace.json";
  const JobOutcome job =
      run_job(2, bench({"--schedule", "dualpipe", "--check", "--profile", trace}));
  ASSERT_TRUE(job.all_succeeded()) << job.report();
  const std::string& line = job.workers[0].output;
  EXPECT_EQ(line.find("{\"schedule\": \"dualpipe\", \"ranks\": 2, \"step_ms_median\": "), 0u)
      << line;
  EXPECT_NE(line.find("\"check\": {\"losses_equal\": true, \"max_rel_grad_diff\": "),
            std::string::npos)
      << line;
  EXPECT_EQ(std::count(line.begin(), line.end(), '\n'), 1) << line;
  EXPECT_TRUE(job.workers[1].output.empty()) << job.workers[1].output;
  const std::vector<std::string> paths{trace,
                                       ::testing::TempDir() + "pipeline_bench_trace.rank1.json"};
  for (std::size_t rank = 0; rank < paths.size(); ++rank) {
    const std::string text = testing_support::read_text_file(paths[rank]);
    EXPECT_NE(text.find("\"distributedInfo\": {\"rank\": " + std::to_string(rank)),
              std::string::npos)
        << paths[rank];
    EXPECT_NE(text.find("\"name\": \"dualpipe:FB "), std::string::npos) << paths[rank];
    EXPECT_NE(text.find("\"cat\": \"user_annotation\""), std::string::npos) << paths[rank];
    std::remove(paths[rank].c_str());
  }
}

TEST(PipelineBench, RunsEveryScheduleOnTwoRanks) {
  if (!testing::kHaveGloo) GTEST_SKIP() << "needs Gloo for CPU process groups";
  for (const char* schedule : {"dualpipev", "1f1b", "zb1p", "interleaved-1f1b", "gpipe"}) {
    const JobOutcome job = run_job(2, bench({"--schedule", schedule, "--check"}));
    ASSERT_TRUE(job.all_succeeded()) << job.report();
    EXPECT_NE(job.workers[0].output.find("\"losses_equal\": true"), std::string::npos)
        << job.workers[0].output;
  }
}

TEST(PipelineBench, TrainsOnAMeshAsOneProcessDoesAndReportsMemory) {
  if (!testing::kHaveGloo) GTEST_SKIP() << "needs Gloo for CPU process groups";
  const JobOutcome job =
      run_job(4, bench({"--schedule", "dualpipe", "--dp", "2", "--zero", "on", "--recompute", "on",
                        "--clip-norm", "0.5", "--check"}),
              std::chrono::seconds(300));
  ASSERT_TRUE(job.all_succeeded()) << job.report();
  const std::string& out = job.workers[0].output;
  EXPECT_NE(out.find("\"pp\": 2, \"dp\": 2, \"zero\": true, \"recompute\": true"), std::string::npos)
      << out;
  EXPECT_LE(check_figure(out, "max_rel_loss_diff"), 1e-12) << out;
  EXPECT_LE(check_figure(out, "max_rel_param_diff"), 1e-12) << out;
  EXPECT_NE(out.find("\"optimizer_state_bytes\": "), std::string::npos) << out;
}

TEST(PipelineBench, RefusesADataParallelDegreeThatDoesNotDivideTheRanks) {
  const JobOutcome job = run_job(2, bench({"--schedule", "gpipe", "--dp", "3"}));
  ASSERT_FALSE(job.timed_out);
  EXPECT_EQ(job.workers[0].exit_code, 2) << job.report();
  EXPECT_NE(job.workers[0].output.find("--dp 3 does not divide the 2 ranks"), std::string::npos)
      << job.workers[0].output;
}

TEST(PipelineBench, HelpGroupsTheOptionsAndShowsTheirDefaults) {
  const JobOutcome job = run_job(1, {PIPELINE_BENCH_BINARY, "--help"});
  ASSERT_TRUE(job.all_succeeded()) << job.report();
  const std::string& help = job.workers[0].output;
  for (const char* expected :
       {"\nModel size:\n", "\nSchedule:\n", "\nDevice:\n", "\nRun:\n", "\nOutput:\n", "--hidden"}) {
    EXPECT_NE(help.find(expected), std::string::npos) << expected << "\n" << help;
  }
  for (const char* value : {"512", "dualpipe", "233", "300"}) {
    EXPECT_TRUE(testing_support::shows_default(help, value)) << value << "\n" << help;
  }
}

TEST(PipelineBench, RejectsBadFlagsWithOneLineAndExitCode2) {
  const JobOutcome job = run_job(1, bench({"--schedule", "zigzag"}));
  ASSERT_FALSE(job.timed_out);
  EXPECT_EQ(job.workers[0].exit_code, 2);
  EXPECT_EQ(job.workers[0].output.rfind("pipeline-bench: --schedule: ", 0), 0u)
      << job.workers[0].output;
  EXPECT_EQ(std::count(job.workers[0].output.begin(), job.workers[0].output.end(), '\n'), 1);
}

TEST(PipelineBench, RefusesCudaGraphsOnTheCpu) {
  const JobOutcome job = run_job(1, bench({"--schedule", "gpipe", "--cuda-graphs", "on"}));
  ASSERT_FALSE(job.timed_out);
  EXPECT_EQ(job.workers[0].exit_code, 2);
  EXPECT_EQ(job.workers[0].output, "pipeline-bench: --cuda-graphs on needs --device cuda\n");
}

TEST(PipelineBench, RefusesStageStreamsOnTheCpu) {
  const JobOutcome job = run_job(1, bench({"--schedule", "dualpipev", "--stage-streams", "on"}));
  ASSERT_FALSE(job.timed_out);
  EXPECT_EQ(job.workers[0].exit_code, 2);
  EXPECT_EQ(job.workers[0].output, "pipeline-bench: --stage-streams on needs --device cuda\n");
}

// Every schedule that runs on the GPUs there are (one rank per GPU, at most 2), its stages graphed:
// the step must equal the sequential one.
TEST(PipelineBench, RunsStagesThroughCudaGraphsAsTheSequentialStep) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "needs a CUDA device";
  const int ranks = torch::cuda::device_count() >= 2 ? 2 : 1;
  for (const char* schedule : {"dualpipev", "zb1p", "gpipe"}) {
    std::vector<std::string> command =
        bench({"--schedule", schedule, "--check", "--cuda-graphs", "on"});
    std::replace(command.begin(), command.end(), std::string("cpu"), std::string("cuda"));
    const JobOutcome job = run_job(ranks, command);
    ASSERT_TRUE(job.all_succeeded()) << job.report();
    EXPECT_NE(job.workers[0].output.find("\"losses_equal\": true"), std::string::npos)
        << schedule << ": " << job.workers[0].output;
  }
}

// The halves of every FB pair on two streams (the stages eager and graphed): the step must still
// equal the sequential one.
TEST(PipelineBench, RunsOverlappedPairsOnStageStreamsAsTheSequentialStep) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "needs a CUDA device";
  const int ranks = torch::cuda::device_count() >= 2 ? 2 : 1;
  std::vector<std::string> schedules{"dualpipev"};
  if (ranks == 2) schedules.emplace_back("dualpipe");
  for (const std::string& schedule : schedules) {
    for (const char* graphs : {"off", "on"}) {
      std::vector<std::string> command = bench(
          {"--schedule", schedule, "--check", "--stage-streams", "on", "--cuda-graphs", graphs});
      std::replace(command.begin(), command.end(), std::string("cpu"), std::string("cuda"));
      const JobOutcome job = run_job(ranks, command);
      ASSERT_TRUE(job.all_succeeded()) << job.report();
      const std::string& line = job.workers[0].output;
      EXPECT_NE(line.find("\"losses_equal\": true"), std::string::npos)
          << schedule << ", graphs " << graphs << ": " << line;
      EXPECT_LE(max_rel_grad_diff(line), 1e-12)
          << schedule << ", graphs " << graphs << ": " << line;
    }
  }
}

// Several ranks on the GPUs there are (sharing one if need be), messages over Gloo through host
// memory: every schedule, with a stream per stage and its stages eager and graphed, must give
// the sequential step. This runs the multi-rank CUDA paths (P2P waits before a stage stream
// forks, sends after it joins, graphed stages whose outputs are sent) on a one-GPU machine.
TEST(PipelineBench, RunsEveryScheduleOnRanksSharingAGpuOverGloo) {
  if (!testing::kHaveGloo) GTEST_SKIP() << "needs Gloo";
  if (!torch::cuda::is_available()) GTEST_SKIP() << "needs a CUDA device";
  struct Job {
    const char* schedule;
    int ranks;
  };
  for (const Job& job :
       {Job{"dualpipe", 2}, Job{"dualpipe", 4}, Job{"dualpipev", 2}, Job{"1f1b", 2}, Job{"zb1p", 2},
        Job{"interleaved-1f1b", 2}, Job{"gpipe", 2}}) {
    for (const char* graphs : {"off", "on"}) {
      std::vector<std::string> command = bench({"--schedule", job.schedule, "--check",
                                                "--comm-backend", "gloo", "--cuda-graphs", graphs});
      std::replace(command.begin(), command.end(), std::string("cpu"), std::string("cuda"));
      // DualPipe needs two micro-batches per rank.
      *(std::find(command.begin(), command.end(), "--microbatches") + 1) =
          std::to_string(2 * job.ranks);
      const JobOutcome outcome = run_job(job.ranks, command, std::chrono::seconds(300));
      const std::string what = std::string(job.schedule) + " on " + std::to_string(job.ranks) +
                               " ranks, graphs " + graphs;
      ASSERT_TRUE(outcome.all_succeeded()) << what << "\n" << outcome.report();
      const std::string& line = outcome.workers[0].output;
      EXPECT_NE(line.find("\"losses_equal\": true"), std::string::npos) << what << ": " << line;
      EXPECT_LE(max_rel_grad_diff(line), 1e-12) << what << ": " << line;
    }
  }
}

TEST(PipelineBench, RefusesNcclOnTheCpu) {
  const JobOutcome job = run_job(1, bench({"--schedule", "gpipe", "--comm-backend", "nccl"}));
  ASSERT_FALSE(job.timed_out);
  EXPECT_EQ(job.workers[0].exit_code, 2);
  EXPECT_EQ(job.workers[0].output, "pipeline-bench: --comm-backend nccl needs --device cuda\n");
}

TEST(PipelineBench, ReportsAModelThatDoesNotSplitOverTheStagesOnEveryRank) {
  if (!testing::kHaveGloo) GTEST_SKIP() << "needs Gloo for CPU process groups";
  const JobOutcome job = run_job(2, bench({"--schedule", "dualpipev", "--blocks", "2"}));
  ASSERT_FALSE(job.timed_out);
  for (const auto& worker : job.workers) {
    EXPECT_EQ(worker.exit_code, 2);
    EXPECT_EQ(worker.output, "pipeline-bench: 2 blocks do not split evenly over 4 stages\n");
  }
}

// One pipeline-bench process started by hand with `environment` ("NAME=value ..."): its exit code
// and what it printed (stdout and stderr).
WorkerOutcome run_alone(const std::string& environment, const std::string& flags) {
  // One log per test: ctest runs the tests of this file in parallel.
  const std::string log = ::testing::TempDir() + "pipeline_bench_alone." +
                          ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".log";
  const std::string command = "env -u TORCHELASTIC_USE_AGENT_STORE MASTER_ADDR=127.0.0.1 " +
                              environment + " '" + PIPELINE_BENCH_BINARY + "' " + flags + " >'" +
                              log + "' 2>&1";
  const int status = std::system(command.c_str());
  WorkerOutcome outcome{WIFEXITED(status) ? WEXITSTATUS(status) : -1,
                        testing_support::read_text_file(log)};
  std::remove(log.c_str());
  return outcome;
}

TEST(PipelineBench, RanksThatDisagreeOnAFlagAllStopNamingIt) {
  if (!testing::kHaveGloo) GTEST_SKIP() << "needs Gloo for CPU process groups";
  const JobOutcome job = run_job_with(2, bench({"--schedule", "gpipe"}), 1, {"--check"});
  ASSERT_FALSE(job.timed_out) << job.report();
  for (const auto& worker : job.workers) {
    EXPECT_EQ(worker.exit_code, 2) << job.report();
    EXPECT_EQ(worker.output, "pipeline-bench: ranks disagree on --check (rank 0: 0; rank 1: 1)\n");
  }
}

TEST(PipelineBench, RefusesVirtualStagesForAScheduleWithoutThem) {
  const JobOutcome job = run_job(1, bench({"--schedule", "1f1b", "--virtual-stages", "3"}));
  ASSERT_FALSE(job.timed_out);
  EXPECT_EQ(job.workers[0].exit_code, 2);
  EXPECT_EQ(job.workers[0].output,
            "pipeline-bench: --virtual-stages applies to interleaved-1f1b only; --schedule 1f1b "
            "has no virtual stages\n");
}

TEST(PipelineBench, RefusesAModelBeyondMemoryWithAnEstimate) {
  std::vector<std::string> command = bench({"--schedule", "gpipe"});
  *(std::find(command.begin(), command.end(), "--hidden") + 1) = "1000000000";
  const JobOutcome job = run_job(1, command);
  ASSERT_FALSE(job.timed_out);
  const std::string& output = job.workers[0].output;
  EXPECT_EQ(job.workers[0].exit_code, 2);
  EXPECT_EQ(output.rfind("pipeline-bench: the model size (--hidden 1000000000, --seq 4", 0), 0u)
      << output;
  EXPECT_NE(output.find("(estimate), more than the "), std::string::npos) << output;
  EXPECT_EQ(std::count(output.begin(), output.end(), '\n'), 1) << output;
}

TEST(PipelineBench, RefusesNumbersOutsideTheFlagsDomains) {
  for (const std::vector<std::string>& flags :
       {std::vector<std::string>{"--seed", "-1"}, {"--steps", "nan"}, {"--timeout", "0"}}) {
    const JobOutcome job = run_job(1, bench(flags));
    ASSERT_FALSE(job.timed_out);
    EXPECT_EQ(job.workers[0].exit_code, 2);
    EXPECT_EQ(job.workers[0].output.rfind("pipeline-bench: " + flags[0] + ": expected ", 0), 0u)
        << job.workers[0].output;
  }
}

TEST(PipelineBench, NamesAStorePortThatIsHeldInOneLine) {
  const SilentListener listener;
  const std::string port = std::to_string(listener.port());
  const WorkerOutcome held =
      run_alone("RANK=0 WORLD_SIZE=1 MASTER_PORT=" + port, "--schedule gpipe --timeout 5");
  EXPECT_EQ(held.exit_code, 2);
  EXPECT_EQ(held.output.rfind(
                "pipeline-bench: rank 0: cannot host the store at 127.0.0.1:" + port + ": ", 0),
            0u)
      << held.output;
  EXPECT_EQ(std::count(held.output.begin(), held.output.end(), '\n'), 1) << held.output;
}

TEST(PipelineBench, WaitsForMissingRanksOnlyUntilItsTimeout) {
  int port = 0;
  { port = SilentListener().port(); }  // free a moment ago
  const WorkerOutcome alone =
      run_alone("RANK=0 WORLD_SIZE=100000 MASTER_PORT=" + std::to_string(port),
                "--schedule gpipe --timeout 1");
  EXPECT_EQ(alone.exit_code, 2);
  EXPECT_EQ(alone.output,
            "pipeline-bench: rank 0: 1 of 100000 ranks joined the store at 127.0.0.1:" +
                std::to_string(port) + " within 1 s\n");
}

}  // namespace
}  // namespace dualpipe::runtime
