// MultiHeadAttention: causal multi-head self-attention, the attention phase of the MoE stage.
#pragma once

#include <ATen/core/Generator.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <cstdint>

#include "dualpipe/runtime/deferrable_linear.h"

namespace dualpipe::moe {

// x [batch, sequence, hidden] -> [batch, sequence, hidden]: softmax(q k^T / sqrt(d) + causal mask)
// v over `heads` heads of width hidden / heads, then an output projection; with `rotary`, q and k
// first get rotary position embeddings (RoPE, base 10000). No biases; linears are
// runtime::DeferrableLinear (zero-bubble capable).
class MultiHeadAttentionImpl : public torch::nn::Module {
 public:
  // Throws std::invalid_argument unless heads divides hidden (into an even width with `rotary`).
  MultiHeadAttentionImpl(int64_t hidden, int64_t heads, bool rotary = false);

  torch::Tensor forward(const torch::Tensor& x);

  // Draws the weights uniformly in +-1/sqrt(hidden) from `generator` (a CPU generator).
  void reset_parameters(at::Generator& generator);

  runtime::DeferrableLinear qkv{nullptr};  // [3 * hidden, hidden]
  runtime::DeferrableLinear out{nullptr};  // [hidden, hidden]

 private:
  int64_t heads_;
  bool rotary_;
};

TORCH_MODULE(MultiHeadAttention);

}  // namespace dualpipe::moe
