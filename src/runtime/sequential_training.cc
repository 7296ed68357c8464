#include "dualpipe/runtime/sequential_training.h"

#include <cmath>
#include <stdexcept>

#include "dualpipe/runtime/microbatch.h"

namespace dualpipe::runtime {

SequentialTraining::SequentialTraining(
    std::vector<std::shared_ptr<PipelineStage>> stages,
    const std::function<std::unique_ptr<torch::optim::Optimizer>(std::vector<torch::Tensor>)>&
        make_optimizer,
    double clip_norm)
    : stages_(std::move(stages)), clip_norm_(clip_norm) {
  for (const auto& stage : stages_) {
    for (const torch::Tensor& p : stage->parameters()) params_.push_back(p);
  }
  optimizer_ = make_optimizer(params_);
}

std::vector<double> SequentialTraining::step(const std::vector<StepInput>& batches,
                                             int64_t batch_dim) {
  if (batches.empty()) throw std::invalid_argument("a training step needs at least one batch");
  optimizer_->zero_grad();
  std::vector<double> losses;
  for (const StepInput& batch : batches) {
    const std::vector<TensorList> inputs =
        split_microbatches(batch.inputs, batch.num_microbatches, batch_dim);
    const std::vector<TensorList> labels =
        split_microbatches(batch.labels, batch.num_microbatches, batch_dim);
    for (int m = 0; m < batch.num_microbatches; ++m) {
      TensorList x = inputs[static_cast<std::size_t>(m)];
      for (const auto& stage : stages_) x = stage->forward(x);
      const torch::Tensor loss = batch.criterion(x, labels[static_cast<std::size_t>(m)]);
      loss.backward();
      losses.push_back(loss.item<double>());
    }
  }
  const auto replicas = static_cast<double>(batches.size());
  double squared = 0.0;
  for (const auto& stage : stages_) {
    stage->sum_replicated_gradients();
    for (const StageParameter& p : stage->stage_parameters()) {
      if (!p.tensor.grad().defined()) continue;
      p.tensor.mutable_grad().div_(replicas);
      if (p.counted_in_norm)
        squared += p.tensor.grad().to(torch::kDouble).pow(2).sum().item<double>();
    }
  }
  const double factor = clip_norm_ / (std::sqrt(squared) + 1e-6);
  if (clip_norm_ > 0 && factor < 1) {
    for (torch::Tensor& p : params_) {
      if (p.grad().defined()) p.mutable_grad().mul_(factor);
    }
  }
  optimizer_->step();
  return losses;
}

}  // namespace dualpipe::runtime
