// Expert MLPs: the SwiGLU feed-forward block used for routed and shared experts, and the set of
// expert slots one expert-parallel rank holds.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "dualpipe/runtime/deferrable_linear.h"
#include "dualpipe/runtime/weight_grad_store.h"

namespace dualpipe::runtime::moe {

// y = down(silu(gate(x)) * up(x)) with x, y [N, hidden] and no biases. Gate and up run as one
// product of width 2 * ffn_hidden. The weight gradients are accumulated by hand, so a zero-bubble
// WeightGradStore can defer them (like DeferrableLinear's; the linears hold the parameters).
class SwiGluMlpImpl : public torch::nn::Module, public DefersWeightGradients {
 public:
  SwiGluMlpImpl(int64_t hidden, int64_t ffn_hidden);

  torch::Tensor forward(const torch::Tensor& x);

  // Draws every weight uniformly in +-1/sqrt(fan_in) from `generator` (a CPU generator).
  void reset_parameters(at::Generator& generator);

  void set_weight_grad_store(std::shared_ptr<WeightGradStore> store) override {
    store_ = std::move(store);
  }

  DeferrableLinear gate{nullptr};  // [ffn_hidden, hidden]
  DeferrableLinear up{nullptr};    // [ffn_hidden, hidden]
  DeferrableLinear down{nullptr};  // [hidden, ffn_hidden]

 private:
  std::shared_ptr<WeightGradStore> store_;
};

TORCH_MODULE(SwiGluMlp);

// The expert slots of one rank: slot j holds a copy of some logical expert (which one is the
// placement's business). Rows arrive in blocks that cycle over the slots (e.g. grouped by source
// rank, then slot, as an exchange delivers them).
class LocalExpertsImpl : public torch::nn::Module, public DefersWeightGradients {
 public:
  LocalExpertsImpl(int64_t num_slots, int64_t hidden, int64_t ffn_hidden);

  // rows [N, hidden] in consecutive blocks, rows_per_block[b] rows in block b (summing to N),
  // block b for slot b mod num_slots() (the count of blocks a multiple of num_slots())
  // -> [N, hidden], row i transformed by its block's expert. Outputs and input gradients are
  // written block by block into one tensor each (no concatenation).
  torch::Tensor forward(const torch::Tensor& rows, const std::vector<int64_t>& rows_per_block);

  void set_weight_grad_store(std::shared_ptr<WeightGradStore> store) override {
    store_ = std::move(store);
  }

  int64_t num_slots() const { return static_cast<int64_t>(slots->size()); }
  SwiGluMlp slot(int64_t j) const { return slots->ptr<SwiGluMlpImpl>(j); }

  // The parameters of slot j in a fixed order (gate, up, down weights).
  std::vector<torch::Tensor> slot_parameters(int64_t j) const;

  torch::nn::ModuleList slots;

 private:
  std::shared_ptr<WeightGradStore> store_;
};

TORCH_MODULE(LocalExperts);

}  // namespace dualpipe::runtime::moe
