#include "one_process_reference.h"

#include <algorithm>
#include <cmath>

namespace lm {

namespace moe = dualpipe::moe;

OneProcessReference::OneProcessReference(const moe::LanguageModelOptions& options,
                                         const std::vector<moe::StageUnits>& partition,
                                         const std::vector<std::vector<int>>& placements,
                                         torch::Dtype dtype, double lr, double weight_decay,
                                         double clip_norm)
    : clip_norm_(clip_norm) {
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
    for (const torch::Tensor& p : stage->parameters()) params_.push_back(p);
    stages_.push_back(stage);
  }
  optimizer_ = std::make_unique<torch::optim::AdamW>(
      params_, torch::optim::AdamWOptions(lr).weight_decay(weight_decay));
}

std::vector<double> OneProcessReference::step(const std::vector<TokenBatch>& batches,
                                              int microbatches) {
  optimizer_->zero_grad();
  std::vector<double> losses;
  for (const TokenBatch& batch : batches) {
    const int64_t rows = batch.inputs.size(0) / microbatches;
    for (int m = 0; m < microbatches; ++m) {
      dualpipe::runtime::TensorList x{batch.inputs.narrow(0, m * rows, rows)};
      for (auto& stage : stages_) x = stage->forward(x);
      const torch::Tensor loss = moe::next_byte_loss(x, {batch.labels.narrow(0, m * rows, rows)});
      loss.backward();
      losses.push_back(loss.item<double>());
    }
  }
  const auto replicas = static_cast<double>(batches.size());
  double squared = 0.0;
  for (auto& stage : stages_) {
    stage->sum_replicated_gradients();
    for (const dualpipe::runtime::StageParameter& p : stage->stage_parameters()) {
      if (!p.tensor.grad().defined()) continue;
      p.tensor.mutable_grad().div_(replicas);
      if (p.counted_in_norm) squared += p.tensor.grad().to(torch::kDouble).pow(2).sum().item<double>();
    }
  }
  const double factor = clip_norm_ / (std::sqrt(squared) + 1e-6);
  if (clip_norm_ > 0 && factor < 1) {
    for (torch::Tensor& p : params_) {
      if (p.grad().defined()) p.mutable_grad().mul_(factor);
    }
  }
  optimizer_->step();
  return losses;
}

void OneProcessReference::update_routing_bias(const std::vector<std::vector<int64_t>>& tokens,
                                              double rate) {
  for (auto& stage : stages_) {
    std::vector<std::vector<int64_t>> rows;
    for (int layer : stage->moe_layer_indices()) rows.push_back(tokens.at(static_cast<std::size_t>(layer)));
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
  for (std::size_t i = 0; i < dense_a.size() && i < dense_b.size(); ++i) compare(dense_a[i], dense_b[i]);
  return worst;
}

}  // namespace lm
