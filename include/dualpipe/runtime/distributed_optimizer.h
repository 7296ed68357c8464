// DistributedOptimizer: steps a torch::optim optimizer on flat copies of a pipeline's parameters,
// one per reduction bucket: the whole bucket, or with ZeRO-1 only this rank's slice of it (its
// optimizer state is then 1/n of the bucket's for n ranks holding copies), the updated slices
// all-gathered into every copy afterwards.
#pragma once

#include <torch/optim/optimizer.h>

#include <functional>
#include <memory>
#include <vector>

#include "dualpipe/runtime/data_parallel_gradients.h"

namespace dualpipe::runtime {

// Makes the optimizer that updates `params` (flat tensors), e.g. AdamW with its options. Any
// torch::optim optimizer whose update is elementwise gives the same parameters as it would
// stepping the model's own parameters (Adam, AdamW, SGD; checkpoints save Adam, AdamW and SGD).
using OptimizerFactory =
    std::function<std::unique_ptr<torch::optim::Optimizer>(std::vector<torch::Tensor> params)>;

// The flat master copy of one bucket's slice and what it covers.
struct MasterSlice {
  ReductionGroup* group = nullptr;
  std::size_t bucket = 0;
  int64_t begin = 0;     // first element of the slice in the bucket
  torch::Tensor master;  // the slice's parameter values, updated by the optimizer
};

class DistributedOptimizer {
 public:
  // `gradients` must outlive this object; its groups must exist (after its prepare()).
  DistributedOptimizer(DataParallelGradients& gradients, OptimizerFactory factory);

  // Multiplies the reduced gradients by `gradient_factor` (clipping and loss scaling), steps the
  // optimizer, writes the new values into every parameter (all-gathering the slices when sharded)
  // and zeroes every parameter's gradient.
  void step(double gradient_factor);

  // Zeroes every parameter's gradient (e.g. after a skipped step).
  void zero_grad();

  // Bytes of optimizer state (its per-parameter state and the master slices) on this rank.
  int64_t state_bytes() const;

  torch::optim::Optimizer& optimizer() { return *optimizer_; }
  std::vector<MasterSlice>& slices() { return slices_; }

  // Overwrites the master slices from the parameters (after parameters were loaded).
  void reload_masters();

 private:
  void write_back(MasterSlice& slice);

  DataParallelGradients& gradients_;
  std::vector<MasterSlice> slices_;
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
};

}  // namespace dualpipe::runtime
