// Expert layers of a stage: what a pipeline stage holding MoE layers tells the runtime about them
// (which parameters are expert slots, their replicated gradients, their placements in
// checkpoints), shared by every stage type that holds MoeLayers.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "dualpipe/moe/moe_layer.h"
#include "dualpipe/runtime/pipeline_stage.h"

namespace dualpipe::moe {

// Every parameter of `stage`, in order; those of `layers`' expert slots as
// runtime::ParameterRole::kExpert, counted in the gradient norm only at their logical expert's
// first slot (the other copies hold the same sum).
std::vector<runtime::StageParameter> parameters_with_experts(torch::nn::Module& stage,
                                                             const std::vector<MoeLayer>& layers);

// MoeLayerImpl::reduce_replica_gradients of every layer. Collective over their groups.
void sum_replicated_expert_gradients(const std::vector<MoeLayer>& layers);

// What a checkpoint keeps of the layers beyond their parameters: each layer's placement
// ("layer<i>.phy2log") and routing bias ("layer<i>.selection_bias").
std::vector<std::pair<std::string, torch::Tensor>> expert_layer_state(
    const std::vector<MoeLayer>& layers);

// Restores what expert_layer_state gave (the placement by MoeLayerImpl::reset_placement: no weight
// moves). Throws std::invalid_argument when the layer counts or shapes differ.
void restore_expert_layer_state(const std::vector<MoeLayer>& layers,
                                const std::vector<std::pair<std::string, torch::Tensor>>& state);

}  // namespace dualpipe::moe
