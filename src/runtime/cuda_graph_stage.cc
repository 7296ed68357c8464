#include "dualpipe/runtime/cuda_graph_stage.h"

#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/custom_function.h>
#include <torch/version.h>

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#ifdef DUALPIPE_WITH_CUDA
#include <ATen/cuda/CUDAEvent.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

namespace dualpipe::runtime {
namespace {

// The device every input is on; throws std::invalid_argument unless they are all on one CUDA
// device.
torch::Device common_cuda_device(const TensorList& inputs) {
  if (inputs.empty()) throw std::invalid_argument("CudaGraphStage: a stage needs inputs");
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].defined() || !inputs[i].is_cuda()) {
      throw std::invalid_argument(
          "CudaGraphStage: input " + std::to_string(i) + " is " +
          (inputs[i].defined() ? "on " + inputs[i].device().str() : std::string("undefined")) +
          "; CUDA graphs need CUDA tensors");
    }
    if (inputs[i].device() != inputs[0].device()) {
      throw std::invalid_argument("CudaGraphStage: input " + std::to_string(i) + " is on " +
                                  inputs[i].device().str() + ", input 0 on " +
                                  inputs[0].device().str());
    }
  }
  return inputs[0].device();
}

}  // namespace

#ifdef DUALPIPE_WITH_CUDA
namespace {

// One captured set of graphs and the static tensors they read and write.
struct GraphSet {
  at::cuda::CUDAGraph forward;
  at::cuda::CUDAGraph input_backward;   // captured only when some output requires grad
  at::cuda::CUDAGraph weight_backward;  // captured only when the stage deferred weight gradients
  bool has_input_backward = false;
  bool has_weight_backward = false;
  TensorList inputs;        // a forward copies its inputs here
  TensorList outputs;       // the forward graph writes the stage outputs here
  TensorList output_grads;  // a backward copies the outputs' gradients here (undefined: no grad)
  TensorList input_grads;   // the I graph writes the inputs' gradients here (undefined: none)
  bool in_use = false;
};

// What tells two forwards apart for capture: gradient mode, then per input its dtype, whether it
// requires grad, and its shape.
std::vector<int64_t> signature_of(const TensorList& inputs) {
  std::vector<int64_t> key{torch::GradMode::is_enabled() ? 1 : 0};
  for (const torch::Tensor& input : inputs) {
    key.push_back(static_cast<int64_t>(input.scalar_type()));
    key.push_back(input.requires_grad() ? 1 : 0);
    key.push_back(input.dim());
    for (int64_t size : input.sizes()) key.push_back(size);
  }
  return key;
}

TensorList clones(const TensorList& tensors) {
  TensorList result;
  result.reserve(tensors.size());
  for (const torch::Tensor& t : tensors) result.push_back(t.clone());
  return result;
}

// The outputs that require grad and, for the same positions, gradients to start a backward with.
struct BackwardRoots {
  TensorList outputs;
  TensorList grads;
};

BackwardRoots backward_roots(const TensorList& outputs, const TensorList& grads) {
  BackwardRoots roots;
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    if (grads[i].defined()) {
      roots.outputs.push_back(outputs[i]);
      roots.grads.push_back(grads[i]);
    }
  }
  return roots;
}

// The memory pool id type (at::cuda in LibTorch 1.13, c10 in 2.x).
using GraphPool = decltype(at::cuda::graph_pool_handle());

// Captures what `work` launches on the current stream into `graph`. If `work` throws, the capture
// is ended (the stream must not stay capturing) and the error rethrown naming `what`.
void capture(at::cuda::CUDAGraph& graph, GraphPool pool, const char* what,
             const std::function<void()>& work) {
#if TORCH_VERSION_MAJOR >= 2
  // Thread-local: the pipeline's other threads (autograd, NCCL's watchdog, the P2P poller) keep
  // working while this thread captures.
  graph.capture_begin(pool, cudaStreamCaptureModeThreadLocal);
#else
  graph.capture_begin(pool);
#endif
  try {
    work();
  } catch (const std::exception& e) {
    try {
      graph.capture_end();
    } catch (...) {
    }
    throw std::runtime_error(std::string("CudaGraphStage: capturing the ") + what +
                             " failed: " + e.what());
  }
  graph.capture_end();
}

}  // namespace

struct CudaGraphStage::Graphs {
  std::mutex mutex;          // guards the sets' in_use flags and the parameters' .grad attachment
  bool initialized = false;  // parameters and grads below were read from the stage
  std::map<std::vector<int64_t>, std::vector<std::unique_ptr<GraphSet>>> sets;  // by signature
  std::vector<torch::Tensor> parameters;    // those requiring grad, as at the first capture
  std::vector<const void*> parameter_data;  // their storage at capture; moved: recapture
  std::vector<torch::Tensor> grads;         // the .grad tensors the graphs accumulate into
  std::shared_ptr<WeightGradStore> store;   // the pipeline's, for W
  std::optional<c10::cuda::CUDAStream> side_stream;  // warm-up and capture run here
  torch::Tensor anchor;                              // see anchors_for()

  // Attaches `grads` to the parameters again where .grad was reset or replaced.
  void attach_grads() {
    std::lock_guard<std::mutex> lock(mutex);
    for (std::size_t i = 0; i < parameters.size(); ++i) {
      torch::Tensor& grad = parameters[i].mutable_grad();
      if (grad.is_same(grads[i])) continue;
      if (grad.defined()) {
        grads[i].copy_(grad);
      } else {
        grads[i].zero_();
      }
      grad = grads[i];
    }
  }

  // True when the parameters still live where the graphs read them.
  bool parameters_unmoved(torch::nn::Module& stage) const {
    std::size_t i = 0;
    for (const torch::Tensor& p : stage.parameters()) {
      if (!p.requires_grad()) continue;
      if (i >= parameter_data.size() || p.data_ptr() != parameter_data[i]) return false;
      ++i;
    }
    return i == parameter_data.size();
  }

  // Forgets every graph and reads the parameters and their .grad tensors again (zeros where
  // undefined or of another dtype, device or shape): first use, or the stage moved. Caller holds
  // mutex.
  void drop_graphs(torch::nn::Module& stage) {
    for (const auto& [key, list] : sets) {
      for (const auto& set : list) {
        if (set->in_use)
          throw std::logic_error(
              "CudaGraphStage: the stage's parameters moved while a micro-batch was in flight");
      }
    }
    sets.clear();
    initialized = true;
    parameters.clear();
    parameter_data.clear();
    grads.clear();
    for (const torch::Tensor& p : stage.parameters()) {
      if (!p.requires_grad()) continue;
      parameters.push_back(p);
      parameter_data.push_back(p.data_ptr());
      torch::Tensor& grad = parameters.back().mutable_grad();
      const bool fits = grad.defined() && grad.scalar_type() == p.scalar_type() &&
                        grad.device() == p.device() && grad.sizes() == p.sizes();
      if (!fits) grad = torch::zeros_like(p);
      grads.push_back(grad);
    }
  }

  // A free set for `inputs`, marked in use, or nullptr.
  GraphSet* take_free_set(const std::vector<int64_t>& key) {
    for (const auto& set : sets[key]) {
      if (!set->in_use) {
        set->in_use = true;
        return set.get();
      }
    }
    return nullptr;
  }
};

namespace {

using Graphs = CudaGraphStage::Graphs;

// Holds a set from its forward until its backward (and W) replayed; frees it when dropped. Lives in
// the autograd context (as a capsule) and in a deferred W task.
struct SetLease : torch::CustomClassHolder {
  SetLease(std::shared_ptr<Graphs> owner, GraphSet* taken) : graphs(std::move(owner)), set(taken) {}
  ~SetLease() override {
    std::lock_guard<std::mutex> lock(graphs->mutex);
    set->in_use = false;
  }
  std::shared_ptr<Graphs> graphs;
  GraphSet* set;
};

// Runs the stage once eagerly, forward and backward, without touching any .grad: cuBLAS handles,
// workspaces and autograd's device thread must exist before a capture. Deferred weight-gradient
// work is dropped.
void warm_up(PipelineStage& stage, const TensorList& inputs, WeightGradStore& capture_store) {
  const TensorList outputs = stage.forward(inputs);
  if (!torch::GradMode::is_enabled()) return;
  TensorList grads;
  for (const torch::Tensor& out : outputs)
    grads.push_back(out.requires_grad() ? torch::zeros_like(out) : torch::Tensor());
  const BackwardRoots roots = backward_roots(outputs, grads);
  TensorList leaves;
  for (const torch::Tensor& input : inputs)
    if (input.requires_grad()) leaves.push_back(input);
  for (const torch::Tensor& p : stage.parameters())
    if (p.requires_grad()) leaves.push_back(p);
  if (roots.outputs.empty() || leaves.empty()) return;
  capture_store.run_deferring({}, [&] {
    torch::autograd::grad(roots.outputs, leaves, roots.grads, /*retain_graph=*/false,
                          /*create_graph=*/false, /*allow_unused=*/true);
  });
  capture_store.clear();
}

// Captures a new set for `inputs` on `side` (the caller's stream waits for it afterwards).
std::unique_ptr<GraphSet> capture_set(PipelineStage& stage, const TensorList& inputs,
                                      c10::cuda::CUDAStream side) {
  auto set = std::make_unique<GraphSet>();
  for (const torch::Tensor& input : inputs) {
    // Leaves: a copy that autograd recorded would tie the captured backward to this micro-batch.
    set->inputs.push_back(
        torch::empty_like(input).copy_(input.detach()).requires_grad_(input.requires_grad()));
  }
  const c10::cuda::CUDAStream caller = c10::cuda::getCurrentCUDAStream(side.device_index());
  at::cuda::CUDAEvent inputs_ready;
  inputs_ready.record(caller);
  inputs_ready.block(side);
  {
    const c10::cuda::CUDAStreamGuard on_side(side);
    auto capture_store = std::make_shared<WeightGradStore>();
    const bool defers = attach_weight_grad_store(stage, capture_store) > 0;
    warm_up(stage, set->inputs, *capture_store);
    const GraphPool pool = at::cuda::graph_pool_handle();
    capture(set->forward, pool, "forward", [&] { set->outputs = stage.forward(set->inputs); });
    for (const torch::Tensor& out : set->outputs)
      set->output_grads.push_back(out.requires_grad() ? torch::zeros_like(out) : torch::Tensor());
    const BackwardRoots roots = backward_roots(set->outputs, set->output_grads);
    if (!roots.outputs.empty()) {
      capture(set->input_backward, pool, "input-gradient backward (I)", [&] {
        capture_store->run_deferring(
            {}, [&] { torch::autograd::backward(roots.outputs, roots.grads); });
      });
      set->has_input_backward = true;
      if (defers && capture_store->pending_tasks() > 0) {
        capture(set->weight_backward, pool, "weight-gradient backward (W)",
                [&] { capture_store->replay({}); });
        set->has_weight_backward = true;
      }
    }
    capture_store->clear();
    for (torch::Tensor& out : set->outputs) out = out.detach();
    for (torch::Tensor& input : set->inputs) set->input_grads.push_back(input.grad());
  }
  at::cuda::CUDAEvent captured;
  captured.record(side);
  captured.block(caller);
  return set;
}

// Non-tensor argument of GraphReplay: the set a forward replays.
struct LeaseArgument {
  c10::intrusive_ptr<SetLease> lease;
};

// Replays a set's forward; its backward replays the set's I graph and hands W to the store.
// Inputs: the stage inputs, then (when no input requires grad) an anchor leaf so that the outputs
// require grad; the parameters' gradients are accumulated inside the graphs, not by autograd.
struct GraphReplay : torch::autograd::Function<GraphReplay> {
  static torch::autograd::variable_list forward(torch::autograd::AutogradContext* ctx,
                                                torch::TensorList inputs, torch::TensorList anchors,
                                                const LeaseArgument& argument) {
    GraphSet& set = *argument.lease->set;
    replay_forward(set, inputs);
    TensorList outputs = clones(set.outputs);
    TensorList without_grad;  // marked in one call: each call replaces the previous marks
    for (std::size_t i = 0; i < outputs.size(); ++i)
      if (!set.output_grads[i].defined()) without_grad.push_back(outputs[i]);
    if (!without_grad.empty()) ctx->mark_non_differentiable(without_grad);
    ctx->saved_data["lease"] = c10::IValue::make_capsule(argument.lease);
    ctx->saved_data["arguments"] = static_cast<int64_t>(inputs.size() + anchors.size() + 1);
    return outputs;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    // The set is freed once this backward (and its W) replayed, not when autograd frees the graph,
    // so a second backward through it cannot replay a set another forward may have taken.
    auto entry = ctx->saved_data.find("lease");
    if (entry == ctx->saved_data.end())
      throw std::runtime_error(
          "CudaGraphStage: a graphed forward's backward ran twice (retain_graph is not supported)");
    auto lease = c10::static_intrusive_pointer_cast<SetLease>(entry->second.toCapsule());
    ctx->saved_data.erase(entry);
    GraphSet& set = *lease->set;
    for (std::size_t i = 0; i < set.output_grads.size(); ++i) {
      if (!set.output_grads[i].defined()) continue;
      if (i < grads.size() && grads[i].defined()) {
        set.output_grads[i].copy_(grads[i]);
      } else {
        set.output_grads[i].zero_();
      }
    }
    lease->graphs->attach_grads();
    set.input_backward.replay();
    torch::autograd::variable_list result(
        static_cast<std::size_t>(ctx->saved_data["arguments"].toInt()));
    for (std::size_t i = 0; i < set.input_grads.size(); ++i)
      if (set.input_grads[i].defined()) result[i] = set.input_grads[i].clone();
    if (set.has_weight_backward) {
      run_or_defer(lease->graphs->store, [lease] {
        lease->graphs->attach_grads();
        lease->set->weight_backward.replay();
      });
    }
    return result;
  }

  static void replay_forward(GraphSet& set, torch::TensorList inputs) {
    for (std::size_t i = 0; i < inputs.size(); ++i) set.inputs[i].detach().copy_(inputs[i]);
    set.forward.replay();
  }
};

// When no input requires grad but the stage has parameters that do: a leaf of the wrapper's own
// that makes the replay's outputs require grad, as the stage's would. Not a parameter: autograd
// keeps a parameter's accumulator, with the stream it was made on, while a graph refers to it, and
// a later capture that met that stream would fail.
TensorList anchors_for(const TensorList& inputs, Graphs& graphs, torch::Device device) {
  for (const torch::Tensor& input : inputs)
    if (input.requires_grad()) return {};
  if (graphs.parameters.empty()) return {};
  if (!graphs.anchor.defined() || graphs.anchor.device() != device)
    graphs.anchor = torch::zeros({}, torch::TensorOptions().device(device).requires_grad(true));
  return {graphs.anchor};
}

}  // namespace

TensorList CudaGraphStage::forward(const TensorList& inputs) {
  const torch::Device device = common_cuda_device(inputs);
  const std::vector<int64_t> key = signature_of(inputs);
  GraphSet* set = nullptr;
  {
    std::lock_guard<std::mutex> lock(graphs_->mutex);
    if (!graphs_->initialized || !graphs_->parameters_unmoved(*stage_)) {
      graphs_->drop_graphs(*stage_);
    }
    set = graphs_->take_free_set(key);
  }
  if (set == nullptr) {
    graphs_->attach_grads();  // a capture reads .grad: it must be the graphs' tensors
    if (!graphs_->side_stream || graphs_->side_stream->device_index() != device.index())
      graphs_->side_stream = c10::cuda::getStreamFromPool(/*isHighPriority=*/false, device.index());
    std::unique_ptr<GraphSet> captured = capture_set(*stage_, inputs, *graphs_->side_stream);
    std::lock_guard<std::mutex> lock(graphs_->mutex);
    captured->in_use = true;
    set = captured.get();
    graphs_->sets[key].push_back(std::move(captured));
  }
  auto lease = c10::make_intrusive<SetLease>(graphs_, set);
  if (!set->has_input_backward) {
    GraphReplay::replay_forward(*set, inputs);
    return clones(set->outputs);
  }
  return GraphReplay::apply(torch::TensorList(inputs),
                            torch::TensorList(anchors_for(inputs, *graphs_, device)),
                            LeaseArgument{lease});
}

int CudaGraphStage::captured_sets() const {
  std::lock_guard<std::mutex> lock(graphs_->mutex);
  int count = 0;
  for (const auto& [key, list] : graphs_->sets) count += static_cast<int>(list.size());
  return count;
}

#else  // no CUDA in this LibTorch

struct CudaGraphStage::Graphs {
  std::shared_ptr<WeightGradStore> store;
};

TensorList CudaGraphStage::forward(const TensorList& inputs) {
  common_cuda_device(inputs);
  throw std::invalid_argument("CudaGraphStage: this LibTorch was built without CUDA");
}

int CudaGraphStage::captured_sets() const { return 0; }

#endif

CudaGraphStage::CudaGraphStage(std::shared_ptr<PipelineStage> stage)
    : stage_(register_module("stage", std::move(stage))), graphs_(std::make_shared<Graphs>()) {}

CudaGraphStage::~CudaGraphStage() = default;

void CudaGraphStage::set_weight_grad_store(std::shared_ptr<WeightGradStore> store) {
  graphs_->store = std::move(store);
}

}  // namespace dualpipe::runtime
