#pragma once

#include <torch/torch.h>

#include <functional>

#include "dualpipe/moe/moe_layer.h"
#include "dualpipe/moe/phase_program.h"

namespace dualpipe::moe {

// A function of one tensor (a norm, an attention block with its norm).
using TensorFunction = std::function<torch::Tensor(const torch::Tensor&)>;

// Appends the phases of a pre-norm residual block whose feed-forward is `moe`: "attn" computes
// h = x + attend(x) and the MoE input norm(h) flattened to [tokens, hidden], then `moe`'s
// dispatch, experts and combine phases, then "combine" returns h + the MoE output. The functions
// are kept by the program; whatever they capture must outlive it.
ValueId append_residual_moe_phases(PhaseProgram& program, ValueId x, TensorFunction attend,
                                   TensorFunction norm, MoeLayerImpl& moe);

}  // namespace dualpipe::moe
