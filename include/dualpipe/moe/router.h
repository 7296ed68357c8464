// Router: the top-k gate of an MoE layer, with optional group-limited routing.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <cstdint>

namespace dualpipe::moe {

// Shape of the gate. Group-limited routing (DeepSeek-V2/V3) splits the experts into `groups` equal
// groups, scores each group by its best expert and lets a token choose only among the experts of
// its `top_groups` best groups; top_groups == groups is plain top-k routing.
struct RouterOptions {
  int64_t hidden = 0;      // token width H
  int64_t experts = 0;     // logical experts E
  int64_t top_k = 1;       // experts per token
  int64_t groups = 1;      // expert groups (must divide experts)
  int64_t top_groups = 1;  // groups a token may use (<= groups; >= top_k / (experts / groups))
  bool normalize = true;   // rescale each token's k weights to sum to 1
};

// Where each token goes: `experts` [tokens, k] int64 logical expert ids (distinct per token) and
// `weights` [tokens, k] their gate weights (differentiable with respect to the gate and tokens).
struct Routing {
  torch::Tensor experts;
  torch::Tensor weights;
};

// Scores = softmax(tokens W^T) over experts; selection takes the k best scores plus
// `selection_bias` (a per-expert offset that skews or balances routing without entering the
// weights, as DeepSeek-V3's bias does); the weights are the selected unbiased scores.
class RouterImpl : public torch::nn::Module {
 public:
  // Throws std::invalid_argument for inconsistent options.
  explicit RouterImpl(const RouterOptions& options);

  // tokens [T, hidden] -> routing of each token.
  Routing forward(const torch::Tensor& tokens);

  const RouterOptions& options() const { return options_; }

  torch::Tensor weight;          // [experts, hidden], trained
  torch::Tensor selection_bias;  // [experts], a buffer (not trained), zeros by default

 private:
  RouterOptions options_;
};

TORCH_MODULE(Router);

// Token-to-expert assignments per logical expert: [num_experts] int64 on the routing's device.
torch::Tensor tokens_per_expert(const Routing& routing, int64_t num_experts);

}  // namespace dualpipe::moe
