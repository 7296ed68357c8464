// DecoderLayer: one layer of the DeepSeek-V3-shaped language model: RMSNorm, causal multi-head
// attention with rotary position embeddings, RMSNorm, and a feed-forward that is either a dense
// SwiGLU MLP or an expert-parallel MoE layer, each behind a residual; written as phases.
#pragma once

#include <cstdint>
#include <optional>

#include "dualpipe/moe/experts.h"
#include "dualpipe/moe/moe_layer.h"
#include "dualpipe/moe/multi_head_attention.h"
#include "dualpipe/moe/phase_program.h"
#include "dualpipe/moe/rms_norm.h"

namespace dualpipe::moe {

// x [batch, sequence, hidden]: h = x + attention(norm1(x)); y = h + ffn(norm2(h)).
class DecoderLayerImpl : public torch::nn::Module {
 public:
  // A dense layer (SwiGLU of width `dense_ffn_hidden`) when `placement` is empty, else an MoE
  // layer with `moe` (its seed and layer set by the caller) over `group`. Weights are drawn from
  // generators seeded with `seed`, so equal arguments give equal layers on every rank.
  DecoderLayerImpl(int64_t heads, int64_t dense_ffn_hidden, const MoeLayerOptions& moe,
                   uint64_t seed, CommGroup group, std::optional<ExpertPlacement> placement);

  // Appends the layer's phases for input value `x`; returns the output's value.
  ValueId append_phases(PhaseProgram& program, ValueId x);

  RmsNorm norm1{nullptr};
  MultiHeadAttention attention{nullptr};
  RmsNorm norm2{nullptr};
  SwiGluMlp dense{nullptr};  // null in an MoE layer
  MoeLayer moe{nullptr};     // null in a dense layer
};

TORCH_MODULE(DecoderLayer);

}  // namespace dualpipe::moe
