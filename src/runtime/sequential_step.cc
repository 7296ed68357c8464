#include "dualpipe/runtime/sequential_step.h"

#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/grad_mode.h>

#include "dualpipe/runtime/microbatch.h"

namespace dualpipe::runtime {

StepResult sequential_step(const std::vector<std::shared_ptr<PipelineStage>>& stages,
                           const StepInput& input, int64_t batch_dim) {
  const std::vector<TensorList> inputs =
      split_microbatches(input.inputs, input.num_microbatches, batch_dim);
  std::vector<TensorList> labels;
  if (!input.labels.empty())
    labels = split_microbatches(input.labels, input.num_microbatches, batch_dim);
  StepResult result;
  std::vector<torch::Tensor> losses;
  for (int g = 0; g < input.num_microbatches; ++g) {
    TensorList x = inputs[static_cast<std::size_t>(g)];
    for (const auto& stage : stages) x = stage->forward(x);
    result.microbatches.push_back(g);
    if (input.criterion) {
      const torch::Tensor loss =
          input.criterion(x, labels.empty() ? TensorList{} : labels[static_cast<std::size_t>(g)]);
      if (torch::GradMode::is_enabled()) torch::autograd::backward({loss});
      losses.push_back(loss.detach());
    }
    if (input.return_outputs) {
      TensorList detached;
      for (const torch::Tensor& t : x) detached.push_back(t.detach());
      result.outputs.push_back(std::move(detached));
    }
  }
  if (!losses.empty()) result.losses = torch::stack(losses);
  return result;
}

}  // namespace dualpipe::runtime
