#include "dualpipe/runtime/process_group.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <torch/csrc/distributed/c10d/HashStore.hpp>

#include "worker_launcher.h"

namespace dualpipe::runtime {
namespace {

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
