// Expert MLPs: the SwiGLU feed-forward block used for routed and shared experts, and the set of
// expert slots one expert-parallel rank holds.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "dualpipe/moe/block_linear.h"
#include "dualpipe/runtime/deferrable_linear.h"

namespace dualpipe::moe {

// y = down(silu(gate(x)) * up(x)) with x, y [N, hidden] and no biases. gate and up are one
// linear (one product reads x once, and its backward gives x's gradient in one product instead of
// two products added up). Its linears are runtime::DeferrableLinear, so a zero-bubble
// runtime::WeightGradStore can defer their weight gradients.
class SwiGluMlpImpl : public torch::nn::Module {
 public:
  SwiGluMlpImpl(int64_t hidden, int64_t ffn_hidden);

  torch::Tensor forward(const torch::Tensor& x);

  // Draws every weight uniformly in +-1/sqrt(fan_in) from `generator` (a CPU generator).
  void reset_parameters(at::Generator& generator);

  // The gate's and up's weights: [2 * ffn_hidden, hidden], rows [0, ffn_hidden) the gate's.
  runtime::DeferrableLinear gate_up{nullptr};
  runtime::DeferrableLinear down{nullptr};  // [hidden, ffn_hidden]
};

TORCH_MODULE(SwiGluMlp);

// The expert slots of one rank: slot j holds a copy of some logical expert (which one is the
// placement's business). Rows arrive in blocks, one per slot, possibly several rounds of them
// (one per source rank). Its weight gradients can be deferred like runtime::DeferrableLinear's.
class LocalExpertsImpl : public torch::nn::Module, public runtime::DefersWeightGradients {
 public:
  // `products`: how each linear multiplies the blocks (see block_linear).
  LocalExpertsImpl(int64_t num_slots, int64_t hidden, int64_t ffn_hidden,
                   BlockProducts products = BlockProducts::kFastest);

  // rows [N, hidden] in consecutive blocks of rows_per_block[b] rows (summing to N), block b for
  // slot b mod num_slots() -> [N, hidden], row i transformed by its slot's expert and scaled by
  // row_weights[i] ([N, 1]; undefined: 1). The number of blocks is a multiple of num_slots().
  // Each linear is one block_linear over all blocks.
  torch::Tensor forward(const torch::Tensor& rows, const std::vector<int64_t>& rows_per_block,
                        const torch::Tensor& row_weights = {});

  void set_weight_grad_store(std::shared_ptr<runtime::WeightGradStore> store) override {
    store_ = std::move(store);
  }

  int64_t num_slots() const { return static_cast<int64_t>(slots->size()); }
  SwiGluMlp slot(int64_t j) const { return slots->ptr<SwiGluMlpImpl>(j); }

  // The parameters of slot j in a fixed order (gate_up, down weights).
  std::vector<torch::Tensor> slot_parameters(int64_t j) const;

  torch::nn::ModuleList slots;

 private:
  std::shared_ptr<runtime::WeightGradStore> store_;
  BlockProducts products_;
};

TORCH_MODULE(LocalExperts);

}  // namespace dualpipe::moe
