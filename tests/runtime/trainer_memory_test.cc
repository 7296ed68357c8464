// Trainer::step's memory report (TrainerOptions::measure_memory): filled on a CUDA device only,
// and there it shows what recomputation saves while the schedule runs.
#include <gtest/gtest.h>
#include <torch/cuda.h>
#include <torch/torch.h>

#include <torch/csrc/distributed/c10d/HashStore.hpp>

#include "dualpipe/runtime/mlp_stage.h"
#include "dualpipe/runtime/trainer.h"

namespace dualpipe::runtime {
namespace {

constexpr int kMicrobatches = 8;
constexpr int64_t kHidden = 256;
constexpr int64_t kRows = 16;  // per micro-batch
constexpr int64_t kSequence = 64;

// Two GPipe steps of a two-block MLP on one process (every micro-batch's forward before any
// backward: all eight are in flight at once); the second step's memory.
std::optional<StepMemory> second_step_memory(torch::Device device, bool recompute) {
  const ParallelMesh mesh(c10::make_intrusive<c10d::HashStore>(), 0, 1, MeshShape{1, 1, 1}, device,
                          std::chrono::seconds(30), MessageBackend::kGloo);
  std::shared_ptr<MlpStage> stage = make_mlp_stage(kHidden, 2, 1, 0, 5, torch::kFloat32);
  stage->to(device);
  PipelineOptions pipeline;
  pipeline.schedule = "gpipe";
  TrainerOptions options;
  options.num_microbatches = kMicrobatches;
  options.measure_memory = true;
  Trainer trainer(
      mesh, {LocalStage{0, 0, stage, recompute}}, pipeline,
      [](std::vector<torch::Tensor> flat) {
        return std::make_unique<torch::optim::AdamW>(flat, torch::optim::AdamWOptions(1e-3));
      },
      options);
  const auto on = torch::TensorOptions().device(device);
  const int64_t rows = device.is_cuda() ? kRows : 1;  // the CPU's answer does not need the size
  StepInput input;
  input.inputs = {torch::randn({kMicrobatches * rows, kSequence, kHidden}, on)};
  input.labels = {torch::randn({kMicrobatches * rows, kSequence, kHidden}, on)};
  input.num_microbatches = kMicrobatches;
  input.criterion = [](const TensorList& outputs, const TensorList& labels) {
    return (outputs.at(0) - labels.at(0)).pow(2).mean();
  };
  trainer.step(input);
  return trainer.step(input).memory;
}

TEST(TrainerMemory, IsNotReportedOnTheCpu) {
  EXPECT_FALSE(second_step_memory(torch::kCPU, false).has_value());
}

TEST(TrainerMemory, RecomputationKeepsOnlyTheStageInputsOfTheMicrobatchesInFlight) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "needs a CUDA device";
  const torch::Device cuda(torch::kCUDA, 0);
  const std::optional<StepMemory> kept = second_step_memory(cuda, false);
  const std::optional<StepMemory> recomputed = second_step_memory(cuda, true);
  ASSERT_TRUE(kept && recomputed);
  EXPECT_LE(kept->at_start, kept->schedule_peak);
  EXPECT_LE(kept->schedule_peak, kept->step_peak);
  // Eight micro-batches of 1024 tokens: without recomputation each keeps its two blocks' inputs
  // and 4H-wide hidden values (about 18 MB); with it, 1 MB of stage input each, and one
  // micro-batch's graph at a time.
  const int64_t one_microbatch_input = kRows * kSequence * kHidden * 4;
  EXPECT_GT(kept->activations(), 8 * 8 * one_microbatch_input);
  EXPECT_LT(recomputed->activations(), kept->activations() / 3);
}

}  // namespace
}  // namespace dualpipe::runtime
