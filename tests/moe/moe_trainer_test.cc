// MoE stages under DualPipe with data and expert parallelism: pp 2 x dp 4 x ep 2 (8 processes over
// Gloo, float64; two expert-parallel groups per pipeline rank, so expert gradients are also summed
// over the replicas that hold the same experts), against one process holding every expert and
// training on every replica's batch.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "dualpipe/moe/moe_stage.h"
#include "dualpipe/runtime/sequential_training.h"
#include "dualpipe/runtime/trainer.h"
#include "multi_process.h"
#include "test_stages.h"

namespace dualpipe::moe {
namespace {

using dualpipe::testing::run_in_processes;
using dualpipe::testing::Worker;

constexpr int kMicrobatches = 4;  // per replica and step (DualPipe on 2 ranks needs 4)
constexpr int kSteps = 3;
constexpr double kClipNorm = 0.3;
const runtime::MeshShape kShape{2, 4, 2};

// Stage s holds model layers 2s and 2s+1; layer 1 of stage 0 replicates experts 0 and 3.
std::vector<int> phy2log(int stage, int layer) {
  if (stage == 0 && layer == 1) return {0, 1, 3, 2, 0, 3};
  return {0, 1, 2, 3};
}

std::shared_ptr<MoeStage> make_stage(int stage, const CommGroup& experts, int expert_ranks) {
  std::vector<ExpertPlacement> placements;
  for (int layer = 0; layer < 2; ++layer)
    placements.emplace_back(phy2log(stage, layer), 4, expert_ranks);
  auto module =
      std::make_shared<MoeStage>(testing::small_stage_options(2 * stage, 23), experts, placements);
  module->to(torch::kFloat64);
  return module;
}

std::unique_ptr<torch::optim::Optimizer> adamw(std::vector<torch::Tensor> params) {
  return std::make_unique<torch::optim::AdamW>(std::move(params),
                                               torch::optim::AdamWOptions(1e-2).weight_decay(0.05));
}

torch::Tensor mse(const runtime::TensorList& outputs, const runtime::TensorList& labels) {
  return (outputs.at(0) - labels.at(0)).pow(2).mean();
}

runtime::StepInput batch(int step, int replica) {
  torch::manual_seed(500 * static_cast<uint64_t>(step) + static_cast<uint64_t>(replica));
  runtime::StepInput input;
  input.inputs = {torch::randn({kMicrobatches, 3, 8}, torch::kFloat64)};
  input.labels = {torch::randn({kMicrobatches, 3, 8}, torch::kFloat64)};
  input.num_microbatches = kMicrobatches;
  input.criterion = mse;
  return input;
}

double relative_difference(const torch::Tensor& a, const torch::Tensor& b) {
  const double scale = std::max(b.abs().max().item<double>(), 1e-300);
  return (a - b).abs().max().item<double>() / scale;
}

// One process: both stages with every expert, every replica's batch.
class Reference {
 public:
  Reference()
      : training_({make_stage(0, CommGroup(), 1), make_stage(1, CommGroup(), 1)}, adamw,
                  kClipNorm) {}

  torch::Tensor step(int step) {
    std::vector<runtime::StepInput> batches;
    for (int d = 0; d < kShape.dp; ++d) batches.push_back(batch(step, d));
    return torch::tensor(training_.step(batches), torch::kFloat64);
  }

  MoeStage& stage(int s) { return static_cast<MoeStage&>(training_.stage(s)); }

 private:
  runtime::SequentialTraining training_;
};

// Every parameter of `mine` (holding expert rank `expert_rank`'s slots) against the same parameter
// of the one-process stage.
void expect_same_parameters(MoeStage& mine, MoeStage& reference, int expert_rank) {
  for (std::size_t l = 0; l < mine.layers.size(); ++l) {
    MoeLayerImpl& a = *mine.layers[l]->moe;
    MoeLayerImpl& b = *reference.layers[l]->moe;
    const int first_slot = a.placement().first_slot_of_rank(expert_rank);
    for (int64_t j = 0; j < a.experts->num_slots(); ++j) {
      const auto ours = a.experts->slot_parameters(j);
      const auto theirs = b.experts->slot_parameters(first_slot + j);
      for (std::size_t i = 0; i < ours.size(); ++i)
        EXPECT_LE(relative_difference(ours[i], theirs[i]), 1e-12) << "layer " << l << " slot " << j;
    }
  }
  std::vector<torch::Tensor> ours;
  std::vector<torch::Tensor> theirs;
  for (const runtime::StageParameter& p : mine.stage_parameters()) {
    if (p.role == runtime::ParameterRole::kDense) ours.push_back(p.tensor);
  }
  for (const runtime::StageParameter& p : reference.stage_parameters()) {
    if (p.role == runtime::ParameterRole::kDense) theirs.push_back(p.tensor);
  }
  ASSERT_EQ(ours.size(), theirs.size());
  for (std::size_t i = 0; i < ours.size(); ++i)
    EXPECT_LE(relative_difference(ours[i], theirs[i]), 1e-12) << "dense parameter " << i;
}

void train_and_compare(const Worker& worker, bool zero, bool recompute) {
  const runtime::ParallelMesh mesh(worker.store, worker.rank, worker.world_size, kShape,
                                   torch::kCPU, std::chrono::seconds(60),
                                   runtime::MessageBackend::kGloo);
  std::vector<runtime::LocalStage> local;
  for (const auto& [direction, stage] :
       runtime::local_stage_slots("dualpipe", kShape.pp, mesh.coordinates().pipeline)) {
    local.push_back(runtime::LocalStage{
        direction, stage, make_stage(stage, mesh.expert_parallel(), kShape.ep), recompute});
  }
  runtime::TrainerOptions options;
  options.num_microbatches = kMicrobatches;
  options.zero = zero;
  options.clip_norm = kClipNorm;
  runtime::Trainer trainer(mesh, local, runtime::PipelineOptions{}, adamw, options);
  Reference reference;
  const int replica = mesh.coordinates().data;
  for (int step = 0; step < kSteps; ++step) {
    const runtime::TrainStepResult result = trainer.step(batch(step, replica));
    const torch::Tensor expected = reference.step(step);
    for (std::size_t i = 0; i < result.step.microbatches.size(); ++i) {
      const int g = replica * kMicrobatches + result.step.microbatches[i];
      EXPECT_LE(relative_difference(result.step.losses[static_cast<int64_t>(i)], expected[g]),
                1e-12)
          << "step " << step << ", micro-batch " << g;
    }
  }
  for (const runtime::LocalStage& l : local) {
    expect_same_parameters(*std::static_pointer_cast<MoeStage>(l.module), reference.stage(l.stage),
                           mesh.coordinates().expert);
  }
}

TEST(MoeTrainer, PipelineDataAndExpertParallelMatchOneProcess) {
  run_in_processes(
      8, [](const Worker& w) { train_and_compare(w, false, false); }, std::chrono::seconds(240));
}

TEST(MoeTrainer, ZeroAndRecomputationMatchOneProcessToo) {
  run_in_processes(
      8, [](const Worker& w) { train_and_compare(w, true, true); }, std::chrono::seconds(240));
}

}  // namespace
}  // namespace dualpipe::moe
