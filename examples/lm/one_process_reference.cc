#include "one_process_reference.h"

#include <torch/optim/adamw.h>

#include <algorithm>

namespace lm {

namespace moe = dualpipe::moe;

OneProcessReference::OneProcessReference(const moe::LanguageModelOptions& options,
                                         const std::vector<moe::StageUnits>& partition,
                                         const std::vector<std::vector<int>>& placements,
                                         torch::Dtype dtype, double lr, double weight_decay,
                                         double clip_norm) {
  std::vector<std::shared_ptr<dualpipe::runtime::PipelineStage>> model;
  for (const moe::StageUnits& units : partition) {
    std::vector<moe::ExpertPlacement> mine;
    for (int unit = units.first; unit < units.end; ++unit) {
      const int layer = unit - 1 - options.dense_layers;
      if (unit >= 1 && unit <= options.layers && layer >= 0)
        mine.emplace_back(placements.at(static_cast<std::size_t>(layer)),
                          static_cast<int>(options.moe.experts), 1);
    }
    auto stage = std::make_shared<moe::LanguageModelStage>(options, units, moe::CommGroup(), mine);
    stage->to(dtype);
    stages_.push_back(stage);
    model.push_back(stage);
  }
  training_ = std::make_unique<dualpipe::runtime::SequentialTraining>(
      model,
      [lr, weight_decay](std::vector<torch::Tensor> params) {
        return std::make_unique<torch::optim::AdamW>(
            params, torch::optim::AdamWOptions(lr).weight_decay(weight_decay));
      },
      clip_norm);
}

std::vector<double> OneProcessReference::step(const std::vector<TokenBatch>& batches,
                                              int microbatches) {
  std::vector<dualpipe::runtime::StepInput> inputs;
  for (const TokenBatch& batch : batches) {
    inputs.push_back(dualpipe::runtime::StepInput{
        {batch.inputs}, {batch.labels}, microbatches, moe::next_byte_loss, false});
  }
  return training_->step(inputs);
}

void OneProcessReference::update_routing_bias(const std::vector<std::vector<int64_t>>& tokens,
                                              double rate) {
  for (auto& stage : stages_) {
    std::vector<std::vector<int64_t>> rows;
    for (int layer : stage->moe_layer_indices())
      rows.push_back(tokens.at(static_cast<std::size_t>(layer)));
    moe::update_routing_bias(stage->moe_layers(), rows, rate);
  }
}

double max_relative_difference(moe::LanguageModelStage& mine, moe::LanguageModelStage& reference,
                               int expert_rank) {
  double worst = 0.0;
  const auto compare = [&worst](const torch::Tensor& a, const torch::Tensor& b) {
    const double scale = std::max(b.abs().max().item<double>(), 1e-300);
    worst = std::max(worst, (a - b).abs().max().item<double>() / scale);
  };
  const std::vector<moe::MoeLayer> ours = mine.moe_layers();
  const std::vector<moe::MoeLayer> theirs = reference.moe_layers();
  for (std::size_t l = 0; l < ours.size(); ++l) {
    const int first = ours[l]->placement().first_slot_of_rank(expert_rank);
    for (int64_t j = 0; j < ours[l]->experts->num_slots(); ++j) {
      const auto a = ours[l]->experts->slot_parameters(j);
      const auto b = theirs[l]->experts->slot_parameters(first + j);
      for (std::size_t i = 0; i < a.size(); ++i) compare(a[i], b[i]);
    }
  }
  std::vector<torch::Tensor> dense_a;
  std::vector<torch::Tensor> dense_b;
  for (const auto& p : mine.stage_parameters())
    if (p.role == dualpipe::runtime::ParameterRole::kDense) dense_a.push_back(p.tensor);
  for (const auto& p : reference.stage_parameters())
    if (p.role == dualpipe::runtime::ParameterRole::kDense) dense_b.push_back(p.tensor);
  for (std::size_t i = 0; i < dense_a.size() && i < dense_b.size(); ++i)
    compare(dense_a[i], dense_b[i]);
  return worst;
}

}  // namespace lm
