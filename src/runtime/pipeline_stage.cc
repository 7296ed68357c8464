#include "dualpipe/runtime/pipeline_stage.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Context.h>
#include <c10/core/StreamGuard.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/engine.h>
#include <torch/csrc/autograd/variable.h>

#include <mutex>
#include <vector>

namespace dualpipe::runtime {
namespace {

// The gradient of a scalar loss with respect to itself: one cached tensor holding 1 per dtype and
// device, instead of the allocation and fill torch::autograd::backward makes for every loss.
// Autograd only reads it (it never writes into a gradient that something else still references).
// The cache is never freed, so no CUDA tensor outlives the driver at exit.
torch::Tensor unit_gradient(const torch::Tensor& loss) {
  static std::mutex mutex;
  static auto* cache = new std::vector<torch::Tensor>();
  const std::lock_guard<std::mutex> lock(mutex);
  for (const torch::Tensor& one : *cache) {
    if (one.scalar_type() == loss.scalar_type() && one.device() == loss.device()) return one;
  }
  cache->push_back(
      torch::ones({}, torch::TensorOptions().dtype(loss.dtype()).device(loss.device())));
  return cache->back();
}

}  // namespace

ForwardResult PipelineStage::overlapped_forward_backward(const ForwardPass& forward_pass,
                                                         const BackwardPass& backward_pass) {
  if (backward_pass.worker == nullptr) {
    ForwardResult result = run_forward(*this, forward_pass);
    run_backward(backward_pass);
    return result;
  }
  HostWorker& worker = *backward_pass.worker;
  worker.start([&backward_pass] { run_backward(backward_pass); });
  ForwardResult result;
  try {
    result = run_forward(*this, forward_pass);
  } catch (...) {
    try {
      worker.wait();  // the backward refers to backward_pass: let it finish first
    } catch (...) {
    }
    throw;
  }
  worker.wait();
  return result;
}

ForwardResult run_forward(PipelineStage& stage, const ForwardPass& pass) {
  ForwardResult result;
  if (pass.keep_replay != nullptr) {
    *pass.keep_replay = stage.forward_once(pass.inputs, result.outputs);
    torch::NoGradGuard no_grad;
    if (pass.criterion != nullptr) result.loss = (*pass.criterion)(result.outputs, pass.labels);
    return result;
  }
  result.outputs = stage.forward(pass.inputs);
  if (pass.criterion != nullptr) result.loss = (*pass.criterion)(result.outputs, pass.labels);
  return result;
}

namespace {

// The default generators' states: the CPU's and, for CUDA inputs, their device's.
class GeneratorReplay : public ForwardReplay {
 public:
  explicit GeneratorReplay(const TensorList& inputs) {
    generators_.push_back(at::detail::getDefaultCPUGenerator());
    for (const torch::Tensor& t : inputs) {
      if (t.defined() && t.is_cuda()) {
        generators_.push_back(at::globalContext().defaultGenerator(t.device()));
        break;
      }
    }
    for (at::Generator& g : generators_) states_.push_back(state_of(g));
  }

  // Runs `body` with the generators at the saved states, then puts back their current states.
  template <typename Body>
  auto replay(Body&& body) {
    std::vector<torch::Tensor> now;
    for (std::size_t i = 0; i < generators_.size(); ++i) {
      now.push_back(state_of(generators_[i]));
      set_state(generators_[i], states_[i]);
    }
    auto restore = [&] {
      for (std::size_t i = 0; i < generators_.size(); ++i) set_state(generators_[i], now[i]);
    };
    try {
      auto result = body();
      restore();
      return result;
    } catch (...) {
      restore();
      throw;
    }
  }

 private:
  static torch::Tensor state_of(at::Generator& g) {
    std::lock_guard<std::mutex> lock(g.mutex());
    return g.get_state();
  }
  static void set_state(at::Generator& g, const torch::Tensor& state) {
    std::lock_guard<std::mutex> lock(g.mutex());
    g.set_state(state);
  }

  std::vector<at::Generator> generators_;
  std::vector<torch::Tensor> states_;
};

}  // namespace

std::unique_ptr<ForwardReplay> PipelineStage::forward_once(const TensorList& inputs,
                                                           TensorList& outputs) {
  auto replay = std::make_unique<GeneratorReplay>(inputs);
  torch::NoGradGuard no_grad;
  outputs = forward(inputs);
  return replay;
}

TensorList PipelineStage::forward_again(const TensorList& inputs, ForwardReplay& replay) {
  auto* generators = dynamic_cast<GeneratorReplay*>(&replay);
  if (generators == nullptr) return forward(inputs);
  return generators->replay([&] { return forward(inputs); });
}

ForwardResult run_forward_again(PipelineStage& stage, const ForwardPass& pass,
                                ForwardReplay& replay) {
  ForwardResult result;
  result.outputs = stage.forward_again(pass.inputs, replay);
  if (pass.criterion != nullptr) result.loss = (*pass.criterion)(result.outputs, pass.labels);
  return result;
}

void run_backward(const BackwardPass& pass) {
  c10::OptionalStreamGuard on_stream;
  if (pass.stream) on_stream.reset_stream(*pass.stream);
  if (pass.loss.defined()) {
    if (pass.loss.dim() == 0) {
      torch::autograd::backward({pass.loss}, {unit_gradient(pass.loss)});
    } else {
      torch::autograd::backward({pass.loss});  // LibTorch's own error unless it has one element
    }
    return;
  }
  // Straight into the engine, as torch.autograd does internally: the outputs' memory may have been
  // released after they were sent, and only their graph edges matter.
  torch::autograd::edge_list roots;
  TensorList grads;
  for (std::size_t i = 0; i < pass.outputs.size() && i < pass.output_grads.size(); ++i) {
    if (pass.output_grads[i].defined() && pass.outputs[i].requires_grad()) {
      roots.push_back(torch::autograd::impl::gradient_edge(pass.outputs[i]));
      grads.push_back(pass.output_grads[i]);
    }
  }
  if (roots.empty()) return;
  torch::autograd::Engine::get_default_engine().execute(roots, grads, /*keep_graph=*/false,
                                                        /*create_graph=*/false,
                                                        /*accumulate_grad=*/true);
}

std::vector<StageParameter> PipelineStage::stage_parameters() {
  std::vector<StageParameter> result;
  for (const torch::Tensor& p : parameters()) result.push_back(StageParameter{p});
  return result;
}

}  // namespace dualpipe::runtime
