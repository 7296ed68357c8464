#include "dualpipe/runtime/distributed_optimizer.h"

#include <torch/torch.h>

#include <stdexcept>

#include "communication_error.h"
#include "dualpipe/runtime/optimizer_state.h"

namespace dualpipe::runtime {

namespace {

// The bucket's parameters, back to back and padded.
torch::Tensor flatten_parameters(const ReductionGroup& group, const BucketLayout& bucket) {
  std::vector<torch::Tensor> parts;
  for (std::size_t i = bucket.first; i < bucket.end; ++i)
    parts.push_back(group.params[i].tensor.detach().reshape({-1}));
  if (bucket.padded > bucket.numel) {
    parts.push_back(
        torch::zeros({bucket.padded - bucket.numel}, group.params[bucket.first].tensor.options()));
  }
  return torch::cat(parts);
}

int64_t bytes_of(const torch::Tensor& t) {
  return t.defined() ? t.numel() * static_cast<int64_t>(t.element_size()) : 0;
}

}  // namespace

DistributedOptimizer::DistributedOptimizer(DataParallelGradients& gradients,
                                           OptimizerFactory factory)
    : gradients_(gradients) {
  const bool sharded = gradients_.options().sharded;
  std::vector<torch::Tensor> masters;
  for (ReductionGroup& group : gradients_.groups()) {
    for (std::size_t b = 0; b < group.buckets.size(); ++b) {
      MasterSlice slice;
      slice.group = &group;
      slice.bucket = b;
      const BucketLayout& bucket = group.buckets[b];
      slice.begin = sharded ? group.member * bucket.shard_numel() : 0;
      const int64_t length = sharded ? bucket.shard_numel() : bucket.padded;
      slice.master = flatten_parameters(group, bucket)
                         .narrow(0, slice.begin, length)
                         .clone()
                         .requires_grad_(true);
      masters.push_back(slice.master);
      slices_.push_back(std::move(slice));
    }
  }
  optimizer_ = factory(masters);
  if (!optimizer_) throw std::invalid_argument("the optimizer factory returned no optimizer");
}

void DistributedOptimizer::reload_masters() {
  torch::NoGradGuard no_grad;
  for (MasterSlice& slice : slices_) {
    const torch::Tensor flat = flatten_parameters(*slice.group, slice.group->buckets[slice.bucket]);
    slice.master.copy_(flat.narrow(0, slice.begin, slice.master.numel()));
  }
}

void DistributedOptimizer::write_back(MasterSlice& slice) {
  ReductionGroup& group = *slice.group;
  const BucketLayout& bucket = group.buckets[slice.bucket];
  torch::Tensor whole = slice.master.detach();
  if (gradients_.options().sharded && group.comm) {
    std::vector<torch::Tensor> parts;
    for (int m = 0; m < group.members(); ++m) parts.push_back(torch::empty_like(whole));
    std::vector<std::vector<torch::Tensor>> outputs{parts};
    std::vector<torch::Tensor> inputs{whole};
    communicate("gathering the updated parameters of stage " + std::to_string(group.stage),
                [&] { return group.comm->allgather(outputs, inputs)->wait(); });
    whole = torch::cat(outputs.front());
  }
  for (std::size_t i = bucket.first; i < bucket.end; ++i) {
    torch::Tensor param = group.params[i].tensor;
    param.detach().copy_(
        whole.narrow(0, bucket.offsets[i - bucket.first], param.numel()).view_as(param));
  }
}

void DistributedOptimizer::step(double gradient_factor) {
  {
    torch::NoGradGuard no_grad;
    for (MasterSlice& slice : slices_) {
      const torch::Tensor reduced = slice.group->reduced.at(slice.bucket);
      if (!reduced.defined())
        throw std::logic_error("stage " + std::to_string(slice.group->stage) +
                               " has no reduced gradients: no step ran since the last update");
      // The reduced buffer is not read again this step: scaled in place (no copy of every
      // gradient) where it already has the master's type.
      torch::Tensor grad = reduced.to(slice.master.scalar_type());
      if (gradient_factor != 1.0) grad.mul_(gradient_factor);
      slice.master.mutable_grad() = grad;
    }
  }
  optimizer_->step();
  torch::NoGradGuard no_grad;
  for (MasterSlice& slice : slices_) {
    write_back(slice);
    slice.group->reduced.at(slice.bucket) = torch::Tensor();
  }
  zero_grad();
}

void DistributedOptimizer::zero_grad() {
  for (ReductionGroup& group : gradients_.groups()) {
    for (StageParameter& p : group.params) {
      if (p.tensor.grad().defined()) p.tensor.mutable_grad().zero_();
    }
    for (torch::Tensor& reduced : group.reduced) reduced = torch::Tensor();
  }
  for (MasterSlice& slice : slices_) slice.master.mutable_grad() = torch::Tensor();
}

int64_t DistributedOptimizer::state_bytes() const {
  int64_t bytes = 0;
  for (const MasterSlice& slice : slices_) {
    bytes += bytes_of(slice.master);
    if (const auto state = elementwise_state(*optimizer_, slice.master)) {
      for (const auto& entry : state->tensors) bytes += bytes_of(entry.second);
    }
  }
  return bytes;
}

}  // namespace dualpipe::runtime
