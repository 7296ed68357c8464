// PipelineStage: one model chunk the pipeline executor runs, and its overlapped forward/backward
// hook.
#pragma once

#include <c10/core/Stream.h>
#include <torch/nn/module.h>
#include <torch/types.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "dualpipe/runtime/host_worker.h"

namespace dualpipe::runtime {

// The tensors a stage takes or returns (a stage may have several inputs and outputs).
using TensorList = std::vector<torch::Tensor>;

// Loss of one micro-batch on a last stage: criterion(stage outputs, labels) -> scalar tensor.
using Criterion = std::function<torch::Tensor(const TensorList& outputs, const TensorList& labels)>;

class PipelineStage;

// What a stage keeps from a forward that it runs again for the backward (activation
// recomputation): by default the random generators' states, so the second forward draws the same
// numbers (e.g. dropout masks).
class ForwardReplay {
 public:
  virtual ~ForwardReplay() = default;
};

// How data parallelism sums one parameter's gradient across ranks.
enum class ParameterRole {
  kDense,   // every data-parallel replica holds it: summed over the data-parallel ranks
  kExpert,  // an MoE expert slot: summed over the ranks that hold the same experts
};

// One parameter of a stage as data parallelism sees it.
struct StageParameter {
  torch::Tensor tensor;
  ParameterRole role = ParameterRole::kDense;
  // False for a copy whose gradient another parameter of the model already holds (an MoE layer's
  // replicated expert): the global gradient norm counts every parameter of the model once.
  bool counted_in_norm = true;
};

// The forward half of a step: one micro-batch's `inputs` through a stage and, on a last stage that
// computes a loss, the criterion against `labels`.
struct ForwardPass {
  TensorList inputs;
  const Criterion* criterion = nullptr;  // non-null only on a last stage that computes a loss
  TensorList labels;                     // the micro-batch's labels (with criterion only)
  // Set (activation recomputation): run the forward without recording a graph, as forward_once()
  // does, and keep what forward_again() will need here.
  std::unique_ptr<ForwardReplay>* keep_replay = nullptr;
};

// What a forward produced: the stage outputs, and the scalar loss when a criterion was given.
struct ForwardResult {
  TensorList outputs;
  torch::Tensor loss;  // undefined without criterion
};

// The backward half of a step: backpropagates through the graph an earlier forward of `stage`
// recorded, either from `loss` (a last stage with a criterion) or from `outputs` and their
// gradients `output_grads` (same shapes, same order). Gradients accumulate into the parameters'
// and the stage inputs' .grad.
struct BackwardPass {
  PipelineStage* stage = nullptr;
  torch::Tensor loss;       // defined: backward from the loss, outputs/output_grads are empty
  TensorList outputs;       // otherwise the forward's outputs
  TensorList output_grads;  // and the gradients received for them
  // Set by the pipeline (see PipelineOptions::concurrent_pairs): the default
  // overlapped_forward_backward() runs this backward on the worker's thread while the forward runs
  // on the calling thread, so the host work of both halves (kernel launches) overlaps.
  HostWorker* worker = nullptr;
  // Set by the pipeline (see PipelineOptions::stage_streams): the stream current while the
  // backward is issued; unset: the stream current on the thread that runs it.
  std::optional<c10::Stream> stream = std::nullopt;
};

// Base class of the modules a pipeline runs. Subclass it, register parameters and submodules as
// for any torch::nn::Module, and implement forward(). A stage with a cheaper way to run one
// micro-batch's forward together with another one's backward (e.g. hiding MoE all-to-all behind
// compute) overrides overlapped_forward_backward().
class PipelineStage : public torch::nn::Module {
 public:
  // Runs one micro-batch through the stage. The executor empties outputs it has sent to another
  // rank (PipelineOptions::free_sent_activations), so an output must not be a tensor the stage's
  // own backward reads again (return a copy in that case), as in deepseek-ai/DualPipe.
  virtual TensorList forward(const TensorList& inputs) = 0;

  // Runs `forward_pass` through this stage and `backward_pass` (another micro-batch, on
  // backward_pass.stage, which may be this stage or another local one) as one unit, and returns
  // the forward's result. The executor calls it for FB actions only when both stages have the
  // same dynamic type, so an override may static_cast backward_pass.stage to its own type. The
  // backward half must have the same effect as run_backward(backward_pass). Default: forward, then
  // backward; or, when backward_pass.worker is set, the backward on that worker's thread while the
  // forward runs on the calling thread (same results: the two halves touch different micro-batches
  // and the backward's stage is another module, so a stage's forward must not change state its
  // other copies' backward reads).
  virtual ForwardResult overlapped_forward_backward(const ForwardPass& forward_pass,
                                                    const BackwardPass& backward_pass);

  // True when this stage's overlapped_forward_backward() spreads a pair's work over CUDA streams
  // itself, expecting both halves issued from one compute stream; the pipeline then keeps this
  // rank's compute on one stream (PipelineOptions::stage_streams).
  virtual bool orders_own_streams() const { return false; }

  // Activation recomputation, first half: runs forward() without recording a graph and returns
  // its outputs and what forward_again() needs. Default: the generators' states (CPU and the
  // inputs' device).
  virtual std::unique_ptr<ForwardReplay> forward_once(const TensorList& inputs,
                                                      TensorList& outputs);

  // Second half, at the start of the backward: runs the forward again, recording its graph, with
  // the same results as forward_once() gave. Default: forward() with the generators set to the
  // saved states (and put back afterwards). A stage whose forward communicates (an MoE layer)
  // overrides both so that the second forward reuses what the first one received.
  virtual TensorList forward_again(const TensorList& inputs, ForwardReplay& replay);

  // The stage's parameters with their roles, in a fixed order (the same on every rank holding
  // this stage). Default: every parameter, dense and counted.
  virtual std::vector<StageParameter> stage_parameters();

  // Sums the gradients of parameters this stage holds several copies of within its own groups (an
  // MoE layer's replicated experts), so each copy holds their sum. The pipeline calls it once per
  // training step, when the stage's gradients are final, before the data-parallel reduction;
  // collective over those groups. Default: nothing.
  virtual void sum_replicated_gradients() {}

  // What a checkpoint keeps of this stage beyond its parameters (e.g. an MoE layer's expert
  // placement), as named tensors. Default: nothing.
  virtual std::vector<std::pair<std::string, torch::Tensor>> checkpoint_state() { return {}; }

  // Restores what checkpoint_state() returned, before the checkpoint's parameters are loaded.
  // Throws std::invalid_argument when `state` does not fit this stage.
  virtual void load_checkpoint_state(
      const std::vector<std::pair<std::string, torch::Tensor>>& /*state*/) {}
};

// Runs `pass` through `stage`: forward (forward_once() when pass.keep_replay is set), then the
// criterion when one is given.
ForwardResult run_forward(PipelineStage& stage, const ForwardPass& pass);

// The same through forward_again() (with its graph), for a pass run by run_forward_once().
ForwardResult run_forward_again(PipelineStage& stage, const ForwardPass& pass,
                                ForwardReplay& replay);

// Runs the backward `pass` describes; entries of pass.outputs whose gradient is undefined are
// skipped. Frees the autograd graph it ran.
void run_backward(const BackwardPass& pass);

}  // namespace dualpipe::runtime
