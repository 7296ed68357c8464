// MoeLayer: an expert-parallel mixture-of-experts layer whose experts are the physical slots of an
// EPLB placement map: route (top-k), dispatch by all-to-all, local experts, combine by all-to-all,
// optional shared expert. Written as phases so the overlap engine can hide its communication.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <cstdint>
#include <memory>

#include "dualpipe/moe/comm_group.h"
#include "dualpipe/moe/expert_placement.h"
#include "dualpipe/moe/experts.h"
#include "dualpipe/moe/overlap_engine.h"
#include "dualpipe/moe/router.h"

namespace torch::optim {
class Optimizer;
}

namespace dualpipe::moe {

class LoadRecorder;

// Sizes of one MoE layer. Parameters are drawn from generators seeded with `seed`, a logical
// expert's weights from seed + 1 + expert, so every rank and every placement holds the same
// expert e, and replicated parts (router, shared expert) agree across ranks.
struct MoeLayerOptions {
  int64_t hidden = 0;             // token width H
  int64_t ffn_hidden = 0;         // hidden width of each routed expert
  int64_t experts = 0;            // logical experts E
  int64_t top_k = 1;              // experts per token
  int64_t groups = 1;             // expert groups for group-limited routing
  int64_t top_groups = 1;         // groups a token may use (== groups: unlimited)
  int64_t shared_ffn_hidden = 0;  // hidden width of the shared expert (0: none)
  uint64_t seed = 0;
  int layer = 0;  // this layer's row in placement plans and load records
  // How the local experts multiply their blocks of rows (one grouped GEMM where it applies).
  BlockProducts expert_products = BlockProducts::kFastest;
};

class MoeLayerImpl : public torch::nn::Module {
 public:
  // `group`: the expert-parallel ranks (null: this process holds every slot); `placement`: which
  // logical expert each slot holds (num_ranks must equal the group size).
  MoeLayerImpl(const MoeLayerOptions& options, CommGroup group, ExpertPlacement placement);

  // tokens [T, hidden] -> [T, hidden]: sum over the token's k experts of gate weight x expert
  // output, plus the shared expert. Collective: every rank of the group must call it.
  torch::Tensor forward(const torch::Tensor& tokens);

  // Appends this layer's phases for the tokens in value `tokens` [T, hidden]: routing (compute,
  // joins the preceding compute phase as "attn"), "dispatch", "mlp" (routed and shared experts),
  // "combine", and the weighted sum ("combine" compute, joins the following compute phase).
  // Returns the value of the layer's output.
  ValueId append_phases(PhaseProgram& program, ValueId tokens);

  // Switches to `next` (same experts, ranks and slot count), moving expert weights between ranks
  // with P2P, and their state in `optimizer` (Adam, AdamW or SGD) when given. Collective; call
  // between steps (gradients of slots that change are dropped).
  void apply_placement(const ExpertPlacement& next, torch::optim::Optimizer* optimizer = nullptr);

  // Switches to `next` (same expert, slot and rank counts) without moving any weight: the slots'
  // weights are about to be overwritten (loading a checkpoint saved under `next`).
  void reset_placement(const ExpertPlacement& next);

  // Gives every copy of a logical expert the sum of all its copies' gradients (over slots and
  // ranks): the logical expert's gradient, so copies stay equal under any optimizer. Collective;
  // call after the backward, before the optimizer step. No-op without replicated experts.
  void reduce_replica_gradients();

  // Counts this layer's routed tokens per logical expert into `recorder` from now on (null: stop).
  void set_load_recorder(std::shared_ptr<LoadRecorder> recorder) {
    recorder_ = std::move(recorder);
  }

  const MoeLayerOptions& options() const { return options_; }
  const ExpertPlacement& placement() const { return placement_; }
  const CommGroup& group() const { return group_; }

  Router router{nullptr};
  LocalExperts experts{nullptr};
  SwiGluMlp shared{nullptr};  // null without a shared expert

 private:
  void reset_parameters();
  // Throws std::invalid_argument unless `next` keeps the expert, slot and rank counts.
  void check_same_shape(const ExpertPlacement& next) const;
  // log2phy and copies-per-expert tensors on `device`, rebuilt after a placement change.
  const torch::Tensor& log2phy_on(torch::Device device);
  const torch::Tensor& copies_on(torch::Device device);

  MoeLayerOptions options_;
  CommGroup group_;
  ExpertPlacement placement_;
  std::shared_ptr<LoadRecorder> recorder_;
  torch::Tensor log2phy_;
  torch::Tensor copies_;
  std::unique_ptr<OverlapEngine> engine_;  // for forward() on its own
};

TORCH_MODULE(MoeLayer);

}  // namespace dualpipe::moe
