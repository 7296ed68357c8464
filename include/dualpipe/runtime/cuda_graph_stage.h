// CudaGraphStage: runs a pipeline stage's forward and backward as replays of captured CUDA graphs,
// so a micro-batch costs the host a few launches instead of one per operation.
#pragma once

#include <memory>

#include "dualpipe/runtime/pipeline_stage.h"
#include "dualpipe/runtime/weight_grad_store.h"

namespace dualpipe::runtime {

// Wraps a stage whose work depends only on its inputs' shapes, dtypes and device (no host-side
// branching on values, no data-dependent shapes: e.g. MlpStage, not an MoE layer) and runs it
// through CUDA graphs, with the same results as the stage itself.
//
// The first forward with new input shapes, or one that finds every captured graph set in use,
// warms the stage up once on a side stream and captures one set into its own memory pool: the
// forward, the input-gradient backward (I) and, when the stage has modules that defer their weight
// gradients (DeferrableLinear), the weight-gradient backward (W). Each forward then replays a free
// set and holds it until its backward (and its W) has replayed, so there are as many sets as
// micro-batches in flight at once, each holding its activations as an eager forward would.
//
// Weight gradients accumulate inside the graphs into the .grad tensors the parameters had at the
// first capture (zeros if none). When .grad was reset (undefined, e.g. by zero_grad with
// set_to_none) the tensor is zeroed and attached again before the next backward; when it was
// replaced, its value is copied in. In zero-bubble schedules the W graph replays when the
// pipeline's store replays the chunk (the pipeline hands this stage its store). Moving the stage
// (to(), a dtype change) drops its graphs; they are captured again on the next forward.
//
// Needs a CUDA build of LibTorch and CUDA inputs: forward() throws std::invalid_argument otherwise.
class CudaGraphStage : public PipelineStage, public DefersWeightGradients {
 public:
  explicit CudaGraphStage(std::shared_ptr<PipelineStage> stage);
  ~CudaGraphStage() override;

  TensorList forward(const TensorList& inputs) override;
  void set_weight_grad_store(std::shared_ptr<WeightGradStore> store) override;

  // Graph sets captured so far, over every input shape.
  int captured_sets() const;

  // The wrapped stage.
  PipelineStage& stage() const { return *stage_; }

  struct Graphs;  // the captured sets and the state they share with pending backwards

 private:
  std::shared_ptr<PipelineStage> stage_;
  std::shared_ptr<Graphs> graphs_;
};

}  // namespace dualpipe::runtime
