// Optimizer state: the per-parameter state of torch::optim's elementwise optimizers (Adam, AdamW,
// SGD) as named tensors, read and written the same way in every LibTorch version.
#pragma once

#include <torch/optim/optimizer.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace dualpipe::runtime {

// One parameter's state: its step count and tensors shaped like the parameter.
struct ElementwiseState {
  int64_t step = 0;
  std::vector<std::pair<std::string, torch::Tensor>> tensors;  // e.g. exp_avg, exp_avg_sq
};

// "AdamW", "Adam", "SGD", or "" for another optimizer.
std::string optimizer_kind(torch::optim::Optimizer& optimizer);

// The state `optimizer` keeps for `param`, or nullopt when it has none yet. Throws
// std::invalid_argument for an optimizer whose state this cannot read.
std::optional<ElementwiseState> elementwise_state(torch::optim::Optimizer& optimizer,
                                                  const torch::Tensor& param);

// Replaces the state `optimizer` keeps for `param` by `state` (as elementwise_state gives it).
void set_elementwise_state(torch::optim::Optimizer& optimizer, const torch::Tensor& param,
                           const ElementwiseState& state);

// Removes the state `optimizer` keeps for `param` (as if it had never stepped it).
void clear_elementwise_state(torch::optim::Optimizer& optimizer, const torch::Tensor& param);

}  // namespace dualpipe::runtime
