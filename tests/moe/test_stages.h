// The small MoE stage and the pair passes the MoE tests share.
#pragma once

#include <cstdint>

#include "dualpipe/moe/moe_stage.h"
#include "dualpipe/runtime/pipeline_stage.h"

namespace dualpipe::moe::testing {

// Two MoE layers (from model layer `first_layer`) of width 8: 2 heads, 4 experts of width 6,
// top-2, a shared expert of width 4.
inline MoeStageOptions small_stage_options(int first_layer, uint64_t seed) {
  MoeStageOptions o;
  o.heads = 2;
  o.moe.hidden = 8;
  o.moe.ffn_hidden = 6;
  o.moe.experts = 4;
  o.moe.top_k = 2;
  o.moe.shared_ffn_hidden = 4;
  o.first_layer = first_layer;
  o.num_layers = 2;
  o.seed = seed;
  return o;
}

// The backward of `forward` on `stage`: from its loss when it computed one, else from its outputs
// with `output_grad` as their gradient.
inline runtime::BackwardPass backward_of(runtime::PipelineStage& stage,
                                         const runtime::ForwardResult& forward,
                                         const torch::Tensor& output_grad) {
  runtime::BackwardPass backward;
  backward.stage = &stage;
  if (forward.loss.defined()) {
    backward.loss = forward.loss;
  } else {
    backward.outputs = forward.outputs;
    backward.output_grads = {output_grad};
  }
  return backward;
}

}  // namespace dualpipe::moe::testing
