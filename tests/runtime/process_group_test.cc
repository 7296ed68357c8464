#include "dualpipe/runtime/process_group.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>
#include <string>
#include <torch/csrc/distributed/c10d/HashStore.hpp>

#include "worker_launcher.h"

namespace dualpipe::runtime {
namespace {

using testing::SilentListener;

// The message connect_store throws for `env` within `timeout`.
std::string rendezvous_error(const LaunchEnvironment& env, std::chrono::milliseconds timeout) {
  try {
    connect_store(env, timeout);
  } catch (const std::runtime_error& error) {
    return error.what();
  }
  return "no error";
}

TEST(ConnectStore, SaysHowManyRanksJoinedWithinTheTimeout) {
  LaunchEnvironment env;
  env.world_size = 100000;
  { env.master_port = SilentListener().port(); }  // a port that was free a moment ago
  EXPECT_EQ(rendezvous_error(env, std::chrono::seconds(1)),
            "rank 0: 1 of 100000 ranks joined the store at " + env.store_address() + " within 1 s");
}

TEST(ConnectStore, NamesAStoreThatNeverAnswers) {
  // Never closed while the test process lives: closing it would reset the connection under the
  // store that connect_store gave up waiting for, and LibTorch's store thread would end the
  // process.
  static const SilentListener& listener = *new SilentListener;
  LaunchEnvironment env;
  env.rank = 1;
  env.world_size = 2;
  env.master_port = listener.port();
  const std::string error = rendezvous_error(env, std::chrono::seconds(1));
  EXPECT_EQ(error, "rank 1: no answer from the store at " + env.store_address() + " within 1 s");
  EXPECT_EQ(error.find('\n'), std::string::npos) << error;
}

TEST(ConnectStore, NamesAPortThatIsInUse) {
  const SilentListener listener;
  LaunchEnvironment env;
  env.master_port = listener.port();
  const std::string error = rendezvous_error(env, std::chrono::seconds(5));
  EXPECT_EQ(error.rfind("rank 0: cannot host the store at " + env.store_address() + ": ", 0), 0u)
      << error;
  EXPECT_EQ(error.find('\n'), std::string::npos) << error;
}

TEST(MakePipelineGroup, RejectsARankOutsideThePipeline) {
  auto store = c10::make_intrusive<c10d::HashStore>();
  EXPECT_THROW(make_pipeline_group(store, {0, 1}, 2, torch::kCPU, std::chrono::seconds(1)),
               std::invalid_argument);
  EXPECT_THROW(make_pipeline_group(store, {0, 0}, 0, torch::kCPU, std::chrono::seconds(1)),
               std::invalid_argument);
}

TEST(MessageBackendNamed, ReadsTheFlagSpellingsAndRejectsOthers) {
  EXPECT_EQ(message_backend_named("auto"), MessageBackend::kAutomatic);
  EXPECT_EQ(message_backend_named("nccl"), MessageBackend::kNccl);
  EXPECT_EQ(message_backend_named("gloo"), MessageBackend::kGloo);
  EXPECT_THROW(message_backend_named("mpi"), std::invalid_argument);
  EXPECT_THROW(message_backend_named("NCCL"), std::invalid_argument);
}

TEST(MakePipelineGroup, RefusesNcclForCpuTensors) {
  auto store = c10::make_intrusive<c10d::HashStore>();
  EXPECT_THROW(make_pipeline_group(store, {0}, 0, torch::kCPU, std::chrono::seconds(1),
                                   MessageBackend::kNccl),
               std::invalid_argument);
}

TEST(MakePipelineGroup, StagesCudaMessagesThroughTheHostOnlyOverGloo) {
  if (!testing::kHaveGloo) GTEST_SKIP() << "needs Gloo";
  auto store = c10::make_intrusive<c10d::HashStore>();
  const PipelineGroup on_cpu =
      make_pipeline_group(store, {0}, 0, torch::kCPU, std::chrono::seconds(5));
  EXPECT_EQ(on_cpu.backend, MessageBackend::kGloo);
  EXPECT_FALSE(on_cpu.stages_through_host());
  const PipelineGroup on_cuda = make_pipeline_group(store, {1}, 1, torch::Device(torch::kCUDA, 0),
                                                    std::chrono::seconds(5), MessageBackend::kGloo);
  EXPECT_EQ(on_cuda.backend, MessageBackend::kGloo);
  EXPECT_FALSE(on_cuda.uses_nccl());
  EXPECT_TRUE(on_cuda.stages_through_host());
}

TEST(MakePipelineGroup, GivesASingleRankPipelineItsOwnCommunicators) {
  if (!testing::kHaveGloo) GTEST_SKIP() << "needs Gloo for CPU process groups";
  auto store = c10::make_intrusive<c10d::HashStore>();
  const PipelineGroup group =
      make_pipeline_group(store, {5}, 5, torch::kCPU, std::chrono::seconds(5));
  EXPECT_EQ(group.rank, 0);
  EXPECT_EQ(group.size, 1);
  EXPECT_FALSE(group.uses_nccl());
  EXPECT_THROW(group.sending_to(0), std::invalid_argument);
  EXPECT_THROW(group.receiving_from(1), std::invalid_argument);
}

TEST(PipelineGroupFromEnvironment, SplitsATorchrunJobIntoSubGroupsThatTalkOnlyAmongThemselves) {
  if (!testing::kHaveGloo) GTEST_SKIP() << "needs Gloo for CPU process groups";
  const testing::JobOutcome job = testing::run_workers(4, {"sub-groups"}, std::chrono::seconds(60));
  EXPECT_TRUE(job.all_succeeded()) << job.report();
}

}  // namespace
}  // namespace dualpipe::runtime
