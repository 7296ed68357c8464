// RmsNorm: root-mean-square layer normalisation, DeepSeek-V3's norm.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

namespace dualpipe::moe {

// x [..., hidden] -> x / sqrt(mean(x^2 over hidden) + eps) * weight; weight starts at ones.
class RmsNormImpl : public torch::nn::Module {
 public:
  explicit RmsNormImpl(int64_t hidden, double eps = 1e-6);

  torch::Tensor forward(const torch::Tensor& x);

  torch::Tensor weight;  // [hidden]

 private:
  double eps_;
};

TORCH_MODULE(RmsNorm);

}  // namespace dualpipe::moe
