// The model, data and one-process reference the multi-process Trainer tests share: MLP stages in
// float64, AdamW, and a reference that trains the whole model on every replica's batch.
#pragma once

#include <torch/torch.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "dualpipe/runtime/mlp_stage.h"
#include "dualpipe/runtime/parallel_mesh.h"
#include "dualpipe/runtime/pipeline.h"
#include "dualpipe/runtime/sequential_training.h"
#include "dualpipe/schedule/generators.h"

namespace dualpipe::runtime::testing {

constexpr int64_t kHidden = 8;
constexpr int64_t kRows = 2;  // samples per micro-batch
constexpr int64_t kSequence = 3;
constexpr int kMicrobatches = 4;  // per replica and step
constexpr uint64_t kSeed = 77;
constexpr int kSteps = 3;

inline int num_stages(const std::string& schedule, int pp) {
  return schedule::generate_schedule(schedule, pp, 2 * pp, 2).num_stages;
}

inline std::unique_ptr<torch::optim::Optimizer> adamw(std::vector<torch::Tensor> params) {
  return std::make_unique<torch::optim::AdamW>(std::move(params),
                                               torch::optim::AdamWOptions(1e-2).weight_decay(0.05));
}

inline torch::Tensor mse(const TensorList& outputs, const TensorList& labels) {
  return (outputs.at(0) - labels.at(0)).pow(2).mean();
}

// Replica `replica`'s batch of step `step`: inputs and labels [N * rows, sequence, hidden].
inline StepInput batch(int step, int replica) {
  torch::manual_seed(1000 * static_cast<uint64_t>(step) + static_cast<uint64_t>(replica));
  StepInput input;
  input.inputs = {torch::randn({kMicrobatches * kRows, kSequence, kHidden}, torch::kFloat64)};
  input.labels = {torch::randn({kMicrobatches * kRows, kSequence, kHidden}, torch::kFloat64)};
  input.num_microbatches = kMicrobatches;
  input.criterion = mse;
  return input;
}

inline double relative_difference(const torch::Tensor& a, const torch::Tensor& b) {
  const double scale = std::max(b.abs().max().item<double>(), 1e-300);
  return (a - b).abs().max().item<double>() / scale;
}

// One process training the whole model on every replica's batch.
class Reference {
 public:
  Reference(int stages, double clip_norm) : training_(make_stages(stages), adamw, clip_norm) {}

  // Losses of every micro-batch of the step on `dp` replicas, replica after replica.
  torch::Tensor step(int step, int dp) {
    std::vector<StepInput> batches;
    for (int d = 0; d < dp; ++d) batches.push_back(batch(step, d));
    return torch::tensor(training_.step(batches), torch::kFloat64);
  }

  PipelineStage& stage(int s) { return training_.stage(s); }

 private:
  static std::vector<std::shared_ptr<PipelineStage>> make_stages(int stages) {
    std::vector<std::shared_ptr<PipelineStage>> model;
    for (int s = 0; s < stages; ++s)
      model.push_back(make_mlp_stage(kHidden, stages, stages, s, kSeed, torch::kFloat64));
    return model;
  }

  SequentialTraining training_;
};

// This rank's stages of `schedule` on the mesh's pipeline, all of them recomputing or none.
inline std::vector<LocalStage> mlp_stages(const std::string& schedule, const ParallelMesh& mesh,
                                          bool recompute) {
  const int stages = num_stages(schedule, mesh.shape().pp);
  std::vector<LocalStage> local;
  for (const auto& [direction, stage] :
       local_stage_slots(schedule, mesh.shape().pp, mesh.coordinates().pipeline)) {
    local.push_back(LocalStage{
        direction, stage, make_mlp_stage(kHidden, stages, stages, stage, kSeed, torch::kFloat64),
        recompute});
  }
  return local;
}

// The largest relative difference between `local`'s parameters and the reference's stages.
inline double parameter_difference(const std::vector<LocalStage>& local, Reference& reference) {
  double worst = 0;
  for (const LocalStage& l : local) {
    const std::vector<torch::Tensor> mine = l.module->parameters();
    const std::vector<torch::Tensor> theirs = reference.stage(l.stage).parameters();
    for (std::size_t i = 0; i < mine.size(); ++i)
      worst = std::max(worst, relative_difference(mine[i], theirs[i]));
  }
  return worst;
}

}  // namespace dualpipe::runtime::testing
