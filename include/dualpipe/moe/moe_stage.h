// MoeStage: a pipeline stage of MoE transformer layers (attention, then an expert-parallel MoE
// layer, each behind a layer norm and inside a residual), written as phases so that DualPipe's
// overlapped pairs hide its all-to-all under compute.
#pragma once

#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "dualpipe/moe/moe_layer.h"
#include "dualpipe/moe/multi_head_attention.h"
#include "dualpipe/moe/expert_layers.h"

namespace dualpipe::moe {

// Sizes of a stage. Layer i of the stage is model layer first_layer + i; its parameters are drawn
// from seeds derived from `seed` and that model layer, so equal options give equal layers on every
// rank (the experts each rank holds aside).
struct MoeStageOptions {
  int64_t heads = 1;
  MoeLayerOptions
      moe;  // hidden, experts, ... ; seed and layer are set per layer from the fields below
  int first_layer = 0;
  int num_layers = 1;
  uint64_t seed = 0;
};

// x [batch, sequence, hidden]: h = x + attention(norm1(x)); y = h + moe(norm2(h)).
class MoeTransformerLayerImpl : public torch::nn::Module {
 public:
  MoeTransformerLayerImpl(int64_t heads, const MoeLayerOptions& moe_options, uint64_t seed,
                          CommGroup group, ExpertPlacement placement);

  // Appends the layer's phases for input value `x`; returns the output's value.
  ValueId append_phases(PhaseProgram& program, ValueId x);

  torch::nn::LayerNorm norm1{nullptr};
  MultiHeadAttention attention{nullptr};
  torch::nn::LayerNorm norm2{nullptr};
  MoeLayer moe{nullptr};
};

TORCH_MODULE(MoeTransformerLayer);

class MoeStage : public ExpertLayerStage {
 public:
  // `placements[i]`: the expert placement of the stage's layer i (one per layer). Throws
  // std::invalid_argument when the counts disagree.
  MoeStage(const MoeStageOptions& options, CommGroup group,
           std::vector<ExpertPlacement> placements);

  // One input [batch, sequence, hidden] -> one output of the same shape.
  std::vector<ValueId> append_phases(PhaseProgram& program,
                                     const std::vector<ValueId>& inputs) override;

  // Counts every layer's routed tokens into `recorder` (rows: model layers).
  void set_load_recorder(const std::shared_ptr<LoadRecorder>& recorder);

  const MoeStageOptions& options() const { return options_; }

  // The MoE layers of `layers`, in order.
  std::vector<MoeLayer> moe_layers() const override;

  std::vector<MoeTransformerLayer> layers;

 private:
  MoeStageOptions options_;
};

}  // namespace dualpipe::moe
