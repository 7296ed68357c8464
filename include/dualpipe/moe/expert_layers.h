// ExpertLayerStage: a phased pipeline stage that holds MoE layers, and what it tells the runtime
// about them (which parameters are expert slots, their replicated gradients, their placements in
// checkpoints), shared by every stage type that holds MoeLayers.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "dualpipe/moe/moe_layer.h"
#include "dualpipe/moe/phased_stage.h"

namespace dualpipe::moe {

// Subclass it, implement append_phases() and moe_layers(); the runtime hooks below follow.
class ExpertLayerStage : public PhasedStage {
 public:
  // The MoE layers the stage holds, in model order.
  virtual std::vector<MoeLayer> moe_layers() const = 0;

  // MoeLayerImpl::reduce_replica_gradients of every layer. Collective over their expert-parallel
  // groups; a Pipeline calls it when the stage's gradients of a step are final.
  void sum_replicated_gradients() override;

  // Every parameter, in order; the experts' slots as runtime::ParameterRole::kExpert, counted in
  // the gradient norm only at their logical expert's first slot (the other copies hold the same
  // sum).
  std::vector<runtime::StageParameter> stage_parameters() override;

  // What a checkpoint keeps beyond the parameters: each layer's placement ("layer<i>.phy2log") and
  // routing bias ("layer<i>.selection_bias").
  std::vector<std::pair<std::string, torch::Tensor>> checkpoint_state() override;

  // Restores what checkpoint_state gave, before the experts' weights are loaded (the placement by
  // MoeLayerImpl::reset_placement: no weight moves). Throws std::invalid_argument when the layer
  // counts or shapes differ.
  void load_checkpoint_state(
      const std::vector<std::pair<std::string, torch::Tensor>>& state) override;
};

}  // namespace dualpipe::moe
