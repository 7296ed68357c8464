// Trainer::move_parameters: changes to the stages' parameters that carry optimizer state along
// (e.g. experts migrating between ranks when an MoE layer's placement changes).
#include <torch/optim/adam.h>
#include <torch/optim/adamw.h>
#include <torch/optim/sgd.h>

#include <stdexcept>

#include "communication_error.h"
#include "dualpipe/runtime/trainer.h"
#include "dualpipe/runtime/optimizer_state.h"

namespace dualpipe::runtime {

namespace {

// An optimizer of `kind` over `params` that holds state only (it never steps).
std::unique_ptr<torch::optim::Optimizer> state_holder(const std::string& kind,
                                                      std::vector<torch::Tensor> params) {
  if (kind == "AdamW") return std::make_unique<torch::optim::AdamW>(params);
  if (kind == "Adam") return std::make_unique<torch::optim::Adam>(params);
  if (kind == "SGD") return std::make_unique<torch::optim::SGD>(params, torch::optim::SGDOptions(1.0));
  throw std::invalid_argument("moving parameters needs an Adam, AdamW or SGD optimizer");
}

// The whole bucket of `slice`'s state tensor `local` (this rank's part of it): gathered from the
// group's members when sharded.
torch::Tensor whole_bucket(const MasterSlice& slice, const torch::Tensor& local, bool sharded) {
  const ReductionGroup& group = *slice.group;
  if (!sharded || !group.comm) return local;
  std::vector<torch::Tensor> parts;
  for (int m = 0; m < group.members(); ++m) parts.push_back(torch::empty_like(local));
  std::vector<std::vector<torch::Tensor>> outputs{parts};
  std::vector<torch::Tensor> inputs{local.contiguous()};
  communicate("gathering optimizer state of stage " + std::to_string(group.stage),
              [&] { return group.comm->allgather(outputs, inputs)->wait(); });
  return torch::cat(outputs.front());
}

}  // namespace

void Trainer::move_parameters(
    const std::function<void(torch::optim::Optimizer& per_parameter)>& change) {
  torch::optim::Optimizer& flat = optimizer_->optimizer();
  const std::string kind = optimizer_kind(flat);
  const bool sharded = options_.zero;
  std::vector<torch::Tensor> params;
  for (const ReductionGroup& group : gradients_->groups()) {
    for (const StageParameter& p : group.params) params.push_back(p.tensor);
  }
  std::unique_ptr<torch::optim::Optimizer> holder = state_holder(kind, params);
  // 1. Each parameter's state, cut from its bucket's (gathered) flat state.
  for (MasterSlice& slice : optimizer_->slices()) {
    const std::optional<ElementwiseState> state = elementwise_state(flat, slice.master);
    if (!state) continue;
    const BucketLayout& bucket = slice.group->buckets[slice.bucket];
    std::vector<torch::Tensor> wholes;
    for (const auto& entry : state->tensors) wholes.push_back(whole_bucket(slice, entry.second, sharded));
    for (std::size_t i = bucket.first; i < bucket.end; ++i) {
      const torch::Tensor& param = slice.group->params[i].tensor;
      ElementwiseState mine;
      mine.step = state->step;
      for (std::size_t t = 0; t < wholes.size(); ++t) {
        mine.tensors.emplace_back(state->tensors[t].first,
                                  wholes[t].narrow(0, bucket.offsets[i - bucket.first], param.numel())
                                      .view_as(param).clone());
      }
      set_elementwise_state(*holder, param, mine);
    }
  }
  // 2. The change, moving values and the holder's state together.
  communicate("moving parameters", [&] {
    change(*holder);
    return 0;
  });
  // 3. Back into the flat state (this rank's slices) and the optimizer's copies.
  for (MasterSlice& slice : optimizer_->slices()) {
    const std::optional<ElementwiseState> state = elementwise_state(flat, slice.master);
    if (!state) continue;
    const BucketLayout& bucket = slice.group->buckets[slice.bucket];
    ElementwiseState updated;
    updated.step = state->step;
    for (const auto& entry : state->tensors) {
      std::vector<torch::Tensor> parts;
      for (std::size_t i = bucket.first; i < bucket.end; ++i) {
        const std::optional<ElementwiseState> moved =
            elementwise_state(*holder, slice.group->params[i].tensor);
        for (const auto& [name, tensor] : moved->tensors) {
          if (name == entry.first) parts.push_back(tensor.reshape({-1}));
        }
      }
      if (bucket.padded > bucket.numel)
        parts.push_back(torch::zeros({bucket.padded - bucket.numel}, entry.second.options()));
      updated.tensors.emplace_back(
          entry.first, torch::cat(parts).narrow(0, slice.begin, slice.master.numel()).clone());
    }
    set_elementwise_state(flat, slice.master, updated);
  }
  optimizer_->reload_masters();
  gradients_->refresh_norm_flags();
}

}  // namespace dualpipe::runtime
