// SequentialTraining: one process training the whole model on every data-parallel replica's
// batch, micro-batch after micro-batch: what a Trainer on a mesh must equal (the tests' and the
// tools' --check reference).
#pragma once

#include <torch/optim/optimizer.h>

#include <memory>
#include <vector>

#include "dualpipe/runtime/pipeline.h"
#include "dualpipe/runtime/pipeline_stage.h"

namespace dualpipe::runtime {

class SequentialTraining {
 public:
  // `stages`: the whole model in order; `make_optimizer` gets all their parameters; `clip_norm`
  // 0: no clipping.
  SequentialTraining(
      std::vector<std::shared_ptr<PipelineStage>> stages,
      const std::function<std::unique_ptr<torch::optim::Optimizer>(std::vector<torch::Tensor>)>&
          make_optimizer,
      double clip_norm);

  // One step on `batches` (one StepInput per replica, split into micro-batches along dimension
  // `batch_dim`): every micro-batch's forward, criterion and backward in turn; each stage's
  // replicated gradients summed (sum_replicated_gradients); gradients averaged over the replicas;
  // clipped by the global norm of the parameters counted in it (StageParameter::counted_in_norm),
  // with the factor min(1, clip / (norm + 1e-6)); an optimizer step. Returns every micro-batch's
  // loss, replica after replica.
  std::vector<double> step(const std::vector<StepInput>& batches, int64_t batch_dim = 0);

  PipelineStage& stage(int s) { return *stages_.at(static_cast<std::size_t>(s)); }

 private:
  std::vector<std::shared_ptr<PipelineStage>> stages_;
  std::vector<torch::Tensor> params_;
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
  double clip_norm_;
};

}  // namespace dualpipe::runtime
