#include "dualpipe/runtime/mlp_stage.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/nn/functional/activation.h>

#include <cmath>
#include <stdexcept>
#include <string>

namespace dualpipe::runtime {

MlpStage::MlpStage(int64_t hidden_size, int num_blocks) {
  if (hidden_size < 1 || num_blocks < 1) {
    throw std::invalid_argument("an MLP stage needs hidden size >= 1 and >= 1 block, got " +
                                std::to_string(hidden_size) + " and " + std::to_string(num_blocks));
  }
  for (int b = 0; b < num_blocks; ++b) {
    const std::string index = std::to_string(b);
    up_.push_back(register_module(
        "up" + index,
        DeferrableLinear(torch::nn::LinearOptions(hidden_size, 4 * hidden_size).bias(false))));
    down_.push_back(register_module(
        "down" + index,
        DeferrableLinear(torch::nn::LinearOptions(4 * hidden_size, hidden_size).bias(false))));
  }
}

TensorList MlpStage::forward(const TensorList& inputs) {
  torch::Tensor x = inputs.at(0);
  for (std::size_t b = 0; b < up_.size(); ++b) x = down_[b](torch::gelu(up_[b](x)));
  return {x};
}

void MlpStage::initialize(uint64_t seed) {
  torch::NoGradGuard no_grad;
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  for (torch::Tensor& weight : parameters()) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(weight.size(1)));
    torch::Tensor values =
        torch::empty(weight.sizes(), torch::kDouble).uniform_(-bound, bound, generator);
    weight.copy_(values);
  }
}

std::shared_ptr<MlpStage> make_mlp_stage(int64_t hidden_size, int total_blocks, int num_stages,
                                         int stage, uint64_t seed, torch::Dtype dtype) {
  if (num_stages < 1 || total_blocks % num_stages != 0) {
    throw std::invalid_argument(std::to_string(total_blocks) + " blocks do not split evenly over " +
                                std::to_string(num_stages) + " stages");
  }
  auto module = std::make_shared<MlpStage>(hidden_size, total_blocks / num_stages);
  module->to(dtype);
  module->initialize(seed + static_cast<uint64_t>(stage));
  return module;
}

}  // namespace dualpipe::runtime
