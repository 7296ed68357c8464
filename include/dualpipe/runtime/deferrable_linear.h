// DeferrableLinear: a drop-in torch::nn::Linear whose backward can defer its weight gradient.
#pragma once

#include <torch/nn/cloneable.h>
#include <torch/nn/options/linear.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <memory>

#include "dualpipe/runtime/weight_grad_store.h"

namespace dualpipe::runtime {

// y = x W^T + b, with x [..., in_features] and y [..., out_features], initialised like
// torch::nn::Linear. Its backward always returns the input gradient; the weight (and bias)
// gradient is accumulated into .grad immediately, or, while its WeightGradStore is deferring,
// handed to the store to run when the matching W action replays it.
class DeferrableLinearImpl : public torch::nn::Cloneable<DeferrableLinearImpl>,
                             public DefersWeightGradients {
 public:
  DeferrableLinearImpl(int64_t in_features, int64_t out_features)
      : DeferrableLinearImpl(torch::nn::LinearOptions(in_features, out_features)) {}
  explicit DeferrableLinearImpl(const torch::nn::LinearOptions& options);

  void reset() override;
  void reset_parameters();
  torch::Tensor forward(const torch::Tensor& input);
  void set_weight_grad_store(std::shared_ptr<WeightGradStore> store) override;

  torch::nn::LinearOptions options;
  torch::Tensor weight;  // [out_features, in_features]
  torch::Tensor bias;    // [out_features], undefined when options.bias() is false

 private:
  std::shared_ptr<WeightGradStore> store_;
};

TORCH_MODULE(DeferrableLinear);

// Adds a @ b to `weight`'s .grad (one fused kernel once .grad exists): a linear's weight gradient
// is grad_output^T @ input, accumulated by hand so that it can be deferred.
void add_to_weight_grad(torch::Tensor weight, const torch::Tensor& a, const torch::Tensor& b);

}  // namespace dualpipe::runtime
