#include "dualpipe/moe/expert_layers.h"

#include <map>
#include <stdexcept>

namespace dualpipe::moe {

std::vector<runtime::StageParameter> ExpertLayerStage::stage_parameters() {
  const std::vector<MoeLayer> layers = moe_layers();
  std::map<const void*, bool> first_copy;  // expert slot parameters: first slot of their expert?
  for (const MoeLayer& layer : layers) {
    const ExpertPlacement& placement = layer->placement();
    const int first_slot = placement.first_slot_of_rank(group_rank(layer->group()));
    for (int64_t j = 0; j < layer->experts->num_slots(); ++j) {
      const int slot = first_slot + static_cast<int>(j);
      const int expert = placement.phy2log()[static_cast<std::size_t>(slot)];
      const bool first = placement.log2phy()[static_cast<std::size_t>(expert)].front() == slot;
      for (const torch::Tensor& p : layer->experts->slot_parameters(j))
        first_copy[p.unsafeGetTensorImpl()] = first;
    }
  }
  std::vector<runtime::StageParameter> result;
  for (const torch::Tensor& p : parameters()) {
    runtime::StageParameter parameter{p};
    auto found = first_copy.find(p.unsafeGetTensorImpl());
    if (found != first_copy.end()) {
      parameter.role = runtime::ParameterRole::kExpert;
      parameter.counted_in_norm = found->second;
    }
    result.push_back(parameter);
  }
  return result;
}

void ExpertLayerStage::sum_replicated_gradients() {
  for (MoeLayer layer : moe_layers()) layer->reduce_replica_gradients();
}

std::vector<std::pair<std::string, torch::Tensor>> ExpertLayerStage::checkpoint_state() {
  const std::vector<MoeLayer> layers = moe_layers();
  std::vector<std::pair<std::string, torch::Tensor>> state;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const std::vector<int>& phy2log = layers[i]->placement().phy2log();
    const std::string name = "layer" + std::to_string(i);
    state.emplace_back(name + ".phy2log",
                       torch::tensor(std::vector<int64_t>(phy2log.begin(), phy2log.end())));
    state.emplace_back(name + ".selection_bias", layers[i]->router->selection_bias);
  }
  return state;
}

void ExpertLayerStage::load_checkpoint_state(
    const std::vector<std::pair<std::string, torch::Tensor>>& state) {
  const std::vector<MoeLayer> layers = moe_layers();
  if (state.size() != 2 * layers.size()) {
    throw std::invalid_argument("the checkpoint holds the state of " +
                                std::to_string(state.size() / 2) + " MoE layers, the stage has " +
                                std::to_string(layers.size()));
  }
  torch::NoGradGuard no_grad;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    MoeLayer layer = layers[i];
    const torch::Tensor phy2log = state[2 * i].second.to(torch::kLong).contiguous();
    const ExpertPlacement& now = layer->placement();
    layer->reset_placement(
        ExpertPlacement(std::vector<int>(phy2log.data_ptr<int64_t>(),
                                         phy2log.data_ptr<int64_t>() + phy2log.numel()),
                        now.num_experts(), now.num_ranks()));
    torch::Tensor& bias = layer->router->selection_bias;
    const torch::Tensor& saved = state[2 * i + 1].second;
    if (saved.sizes() != bias.sizes())
      throw std::invalid_argument("the checkpoint's routing bias of MoE layer " +
                                  std::to_string(i) + " has another number of experts");
    bias.copy_(saved);
  }
}

}  // namespace dualpipe::moe
