#include "dualpipe/moe/moe_stage.h"

#include <ATen/CPUGeneratorImpl.h>

#include <stdexcept>
#include <string>

#include "residual_moe_phases.h"

namespace dualpipe::moe {
namespace {

// Seed of model layer `layer`'s parameters.
uint64_t layer_seed(uint64_t seed, int layer) {
  return seed + 1000003ULL * static_cast<uint64_t>(layer + 1);
}

}  // namespace

MoeTransformerLayerImpl::MoeTransformerLayerImpl(int64_t heads, const MoeLayerOptions& moe_options,
                                                 uint64_t seed, CommGroup group,
                                                 ExpertPlacement placement) {
  const int64_t hidden = moe_options.hidden;
  norm1 = register_module("norm1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({hidden})));
  attention = register_module("attention", MultiHeadAttention(hidden, heads));
  norm2 = register_module("norm2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({hidden})));
  MoeLayerOptions options = moe_options;
  options.seed = seed + 1;
  moe = register_module("moe", MoeLayer(options, std::move(group), std::move(placement)));
  at::Generator generator = at::detail::createCPUGenerator(seed);
  attention->reset_parameters(generator);
}

ValueId MoeTransformerLayerImpl::append_phases(PhaseProgram& program, ValueId x) {
  return append_residual_moe_phases(
      program, x, [this](const torch::Tensor& h) { return attention->forward(norm1->forward(h)); },
      [this](const torch::Tensor& h) { return norm2->forward(h); }, *moe);
}

MoeStage::MoeStage(const MoeStageOptions& options, CommGroup group,
                   std::vector<ExpertPlacement> placements)
    : options_(options) {
  if (options_.num_layers < 1 || static_cast<int>(placements.size()) != options_.num_layers) {
    throw std::invalid_argument("MoE stage: " + std::to_string(placements.size()) +
                                " placements for " + std::to_string(options_.num_layers) +
                                " layers");
  }
  for (int i = 0; i < options_.num_layers; ++i) {
    MoeLayerOptions moe_options = options_.moe;
    moe_options.layer = options_.first_layer + i;
    layers.push_back(
        register_module("layer" + std::to_string(i),
                        MoeTransformerLayer(options_.heads, moe_options,
                                            layer_seed(options_.seed, moe_options.layer), group,
                                            std::move(placements[static_cast<std::size_t>(i)]))));
  }
}

std::vector<ValueId> MoeStage::append_phases(PhaseProgram& program,
                                             const std::vector<ValueId>& inputs) {
  if (inputs.size() != 1)
    throw std::invalid_argument("MoE stage: expects one input [batch, sequence, hidden]");
  ValueId x = inputs[0];
  for (MoeTransformerLayer& layer : layers) x = layer->append_phases(program, x);
  return {x};
}

std::vector<MoeLayer> MoeStage::moe_layers() const {
  std::vector<MoeLayer> result;
  for (const MoeTransformerLayer& layer : layers) result.push_back(layer->moe);
  return result;
}

void MoeStage::set_load_recorder(const std::shared_ptr<LoadRecorder>& recorder) {
  for (MoeTransformerLayer& layer : layers) layer->moe->set_load_recorder(recorder);
}

}  // namespace dualpipe::moe
