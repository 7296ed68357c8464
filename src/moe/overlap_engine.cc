#include "dualpipe/moe/overlap_engine.h"

#include <ATen/record_function.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>
#include <optional>
#include <stdexcept>
#include <unordered_set>

#include "dualpipe/schedule/annotation.h"

namespace dualpipe::moe {
namespace {

// A micro-batch whose forward ran through phases: everything its backward needs. Owned by the
// autograd node its outputs hang off (and by the engine while it runs an overlapped backward).
struct PhasedMicrobatch : torch::CustomClassHolder {
  std::shared_ptr<PhaseTape> tape;
  runtime::TensorList inputs;        // the stage inputs as given
  std::vector<ValueId> input_ids;    // their values on the tape
  std::vector<ValueId> output_ids;   // the stage outputs' values
  std::vector<ValueId> anchored;     // the values of the autograd node's inputs (-1: placeholder)
  bool capture = false;              // the node's backward only hands its gradients over ...
  runtime::TensorList output_grads;  // ... into here
};

using MicrobatchPtr = c10::intrusive_ptr<PhasedMicrobatch>;

void run_compute(const Phase& phase) {
  RECORD_USER_SCOPE(phase.label.c_str());
  phase.compute();
}

std::function<void()> start_communication(const Phase& phase) {
  RECORD_USER_SCOPE(phase.label.c_str());
  return phase.start();
}

// Under the phase's label too: a wait may issue the rest of the communication (the dispatch sends
// its rows once the host has the split sizes).
void finish_communication(const Phase& phase, const std::function<void()>& wait) {
  RECORD_USER_SCOPE(phase.label.c_str());
  wait();
}

// Runs one step: `communication` (may be null) is started first, so that on CUDA it waits only for
// the work issued before this step and the host issues it before the compute it hides under;
// then `compute` (may be empty) is issued; then the step waits for the communication (on CUDA:
// the compute stream waits; the host only for what the communication needs on the host, such as
// the dispatch's split sizes, by which time the compute is issued).
void run_step(const std::function<void()>& compute, const Phase* communication) {
  std::function<void()> wait;
  if (communication != nullptr) wait = start_communication(*communication);
  if (compute) compute();
  if (wait) finish_communication(*communication, wait);
}

// Runs a backward compute phase for input gradients only, its weight-gradient work kept in
// `store` under a label of its own; returns the W phase that runs that work.
Phase run_deferring_weights(const Phase& phase, runtime::WeightGradStore& store, int index) {
  const schedule::Chunk label{-1, -1 - index, -1};  // no schedule uses negative chunks
  store.run_deferring(label, [&phase] { run_compute(phase); });
  return Phase{phase.name,
               'W',
               false,
               schedule::phase_label(phase.name, 'W'),
               [&store, label] { store.replay(label); },
               {}};
}

// Seeds the tape with the output gradients and runs the backward phases in order.
void run_backward_in_order(PhasedMicrobatch& mb, const runtime::TensorList& output_grads) {
  for (std::size_t i = 0; i < mb.output_ids.size() && i < output_grads.size(); ++i) {
    mb.tape->add_grad(mb.output_ids[i], output_grads[i]);
  }
  run_in_order(backward_phases(mb.tape));
}

// The autograd node a phased forward's outputs hang off. Its inputs are the stage inputs that
// require grad plus a placeholder that does (so the outputs require grad even when no stage input
// does); its backward runs the micro-batch's backward phases in order.
struct PhaseAnchor : torch::autograd::Function<PhaseAnchor> {
  static torch::autograd::variable_list forward(torch::autograd::AutogradContext* ctx,
                                                at::TensorList /*anchored_inputs*/,
                                                MicrobatchPtr mb) {
    ctx->saved_data["microbatch"] = c10::IValue::make_capsule(mb);
    torch::autograd::variable_list outputs;
    for (ValueId id : mb->output_ids) outputs.push_back(mb->tape->value(id).variable_data());
    return outputs;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    auto mb = c10::static_intrusive_pointer_cast<PhasedMicrobatch>(
        ctx->saved_data.at("microbatch").toCapsule());
    torch::autograd::variable_list input_grads(mb->anchored.size() + 1);
    if (mb->capture) {
      mb->output_grads = std::move(grads);
      return input_grads;
    }
    run_backward_in_order(*mb, grads);
    for (std::size_t i = 0; i < mb->anchored.size(); ++i) {
      if (mb->anchored[i] >= 0) input_grads[i] = mb->tape->grad(mb->anchored[i]);
    }
    mb->tape->release();
    return input_grads;
  }
};

// Records the stage inputs on a new tape and appends the stage's phases.
MicrobatchPtr build_microbatch(const runtime::TensorList& inputs, const ProgramBuilder& build,
                               PhaseProgram& program) {
  auto mb = c10::make_intrusive<PhasedMicrobatch>();
  mb->tape = program.shared_tape();
  mb->inputs = inputs;
  for (const torch::Tensor& input : inputs)
    mb->input_ids.push_back(program.tape().add_input(input));
  mb->output_ids = build(program, mb->input_ids);
  return mb;
}

// The stage outputs of a micro-batch whose forward phases ran, hung off a PhaseAnchor.
runtime::TensorList anchor_outputs(const MicrobatchPtr& mb) {
  std::vector<torch::Tensor> anchored_inputs{torch::zeros({}, torch::requires_grad())};
  mb->anchored.push_back(-1);
  for (std::size_t i = 0; i < mb->inputs.size(); ++i) {
    if (mb->inputs[i].requires_grad()) {
      anchored_inputs.push_back(mb->inputs[i]);
      mb->anchored.push_back(mb->input_ids[i]);
    }
  }
  return PhaseAnchor::apply(at::TensorList(anchored_inputs), mb);
}

// The micro-batch behind a backward pass: the PhaseAnchor reached first from its roots.
MicrobatchPtr find_microbatch(const runtime::BackwardPass& pass) {
  std::vector<torch::autograd::Node*> frontier;
  if (pass.loss.defined()) {
    frontier.push_back(pass.loss.grad_fn().get());
  } else {
    for (const torch::Tensor& output : pass.outputs) frontier.push_back(output.grad_fn().get());
  }
  std::unordered_set<torch::autograd::Node*> seen;
  constexpr std::size_t kMaxNodes = 100000;
  for (std::size_t next = 0; next < frontier.size() && seen.size() < kMaxNodes; ++next) {
    torch::autograd::Node* node = frontier[next];
    if (node == nullptr || !seen.insert(node).second) continue;
    if (auto* anchor = dynamic_cast<torch::autograd::CppNode<PhaseAnchor>*>(node)) {
      return c10::static_intrusive_pointer_cast<PhasedMicrobatch>(
          anchor->ctx_.saved_data.at("microbatch").toCapsule());
    }
    for (const torch::autograd::Edge& edge : node->next_edges())
      frontier.push_back(edge.function.get());
  }
  return {};
}

// Adds the backward's stage-input gradients where runtime::run_backward would have put them.
void deliver_input_grads(PhasedMicrobatch& mb) {
  for (std::size_t i = 0; i < mb.inputs.size(); ++i) {
    torch::Tensor input = mb.inputs[i];
    const torch::Tensor& grad = mb.tape->grad(mb.input_ids[i]);
    if (!grad.defined() || !input.requires_grad()) continue;
    if (input.is_leaf()) {
      torch::Tensor& sum = input.mutable_grad();
      sum = sum.defined() ? sum + grad : grad;
    } else {
      torch::autograd::backward({input}, {grad});
    }
  }
}

// The outputs of a micro-batch whose forward ran without a graph; its tape is no longer needed.
runtime::TensorList plain_outputs(const MicrobatchPtr& mb) {
  runtime::TensorList outputs;
  for (ValueId id : mb->output_ids) outputs.push_back(mb->tape->value(id));
  mb->tape->release();
  return outputs;
}

// `phases` with every compute phase run without recording a graph.
std::vector<Phase> without_graph(std::vector<Phase> phases) {
  for (Phase& phase : phases) {
    if (phase.communication) continue;
    phase.compute = [compute = std::move(phase.compute)] {
      torch::NoGradGuard no_grad;
      compute();
    };
  }
  return phases;
}

runtime::ForwardResult finish_forward(const MicrobatchPtr& mb, const runtime::ForwardPass& pass) {
  runtime::ForwardResult result;
  if (pass.keep_replay != nullptr) {
    result.outputs = plain_outputs(mb);
    torch::NoGradGuard no_grad;
    if (pass.criterion != nullptr) result.loss = (*pass.criterion)(result.outputs, pass.labels);
    return result;
  }
  result.outputs = anchor_outputs(mb);
  if (pass.criterion != nullptr) result.loss = (*pass.criterion)(result.outputs, pass.labels);
  return result;
}

}  // namespace

void run_in_order(const std::vector<Phase>& phases) {
  for (const Phase& phase : phases) {
    if (phase.communication) {
      run_step({}, &phase);
    } else {
      run_compute(phase);
    }
  }
}

std::vector<PairStep> interleaving(const std::vector<Phase>& forward,
                                   const std::vector<Phase>& backward, PairOrder order) {
  std::vector<PairStep> steps;
  const int nf = static_cast<int>(forward.size());
  const int nb = static_cast<int>(backward.size());
  int f = 0;
  int b = 0;
  while (f < nf || b < nb) {
    PairStep step;
    const bool forward_alone = b == nb || (f < nf && order == PairOrder::kForwardFirst);
    if (f < nf && b < nb && forward[f].communication != backward[b].communication) {
      step = {f++, b++};
    } else if (forward_alone) {
      step.forward = f++;
    } else {
      step.backward = b++;
    }
    steps.push_back(step);
  }
  return steps;
}

const WeightPhaseNames& all_weight_phases() {
  static const WeightPhaseNames names{"attn", "mlp"};
  return names;
}

const WeightPhaseNames& default_weight_phases() {
  static const WeightPhaseNames names{"attn"};
  return names;
}

void run_interleaved(const std::vector<Phase>& forward, const std::vector<Phase>& backward,
                     runtime::WeightGradStore* weight_grads, const PairOptions& options) {
  const WeightPhaseNames& deferred_names = options.deferred_weights;
  const bool split = weight_grads != nullptr && !weight_grads->deferring();
  std::optional<Phase> pending_weights;  // the W phase of the previous step's backward compute
  int deferred = 0;
  for (const PairStep& step : interleaving(forward, backward, options.order)) {
    const Phase* f = step.forward >= 0 ? &forward[static_cast<std::size_t>(step.forward)] : nullptr;
    const Phase* b =
        step.backward >= 0 ? &backward[static_cast<std::size_t>(step.backward)] : nullptr;
    const Phase* compute =
        (f != nullptr && !f->communication) ? f : (b != nullptr && !b->communication ? b : nullptr);
    const Phase* communication =
        (f != nullptr && f->communication) ? f : (b != nullptr && b->communication ? b : nullptr);
    const bool defer = split && compute != nullptr && compute == b &&
                       std::find(deferred_names.begin(), deferred_names.end(), compute->name) !=
                           deferred_names.end();
    std::optional<Phase> previous_weights = std::move(pending_weights);
    pending_weights.reset();
    const auto step_compute = [&] {
      if (previous_weights) run_compute(*previous_weights);
      if (compute == nullptr) return;
      if (defer) {
        pending_weights = run_deferring_weights(*compute, *weight_grads, deferred++);
      } else {
        run_compute(*compute);
      }
    };
    run_step(step_compute, communication);
  }
  if (pending_weights) run_compute(*pending_weights);
}

OverlapEngine::OverlapEngine(torch::Device device)
    : streams_(std::make_shared<CommStreams>(device)) {}

runtime::TensorList OverlapEngine::forward(const runtime::TensorList& inputs,
                                           const ProgramBuilder& build) {
  PhaseProgram program(streams_);
  MicrobatchPtr mb = build_microbatch(inputs, build, program);
  run_in_order(program.forward_phases());
  if (!torch::GradMode::is_enabled()) return plain_outputs(mb);
  return anchor_outputs(mb);
}

runtime::TensorList OverlapEngine::forward_once(const runtime::TensorList& inputs,
                                                const ProgramBuilder& build,
                                                std::unique_ptr<runtime::ForwardReplay>& replay) {
  auto log = std::make_shared<ExchangeLog>();
  PhaseProgram program(streams_);
  program.set_exchange_log(log);
  torch::NoGradGuard no_grad;
  MicrobatchPtr mb = build_microbatch(inputs, build, program);
  run_in_order(program.forward_phases());
  replay = std::make_unique<PhasedReplay>(log);
  return plain_outputs(mb);
}

runtime::TensorList OverlapEngine::forward_again(const runtime::TensorList& inputs,
                                                 const ProgramBuilder& build,
                                                 PhasedReplay& replay) {
  replay.log->start_replay();
  PhaseProgram program(streams_);
  program.set_exchange_log(replay.log);
  MicrobatchPtr mb = build_microbatch(inputs, build, program);
  run_in_order(program.forward_phases());
  return anchor_outputs(mb);
}

runtime::ForwardResult OverlapEngine::forward_backward(const runtime::ForwardPass& forward_pass,
                                                       const ProgramBuilder& build,
                                                       const runtime::BackwardPass& backward_pass,
                                                       runtime::WeightGradStore* weight_grads,
                                                       const PairOptions& options) {
  MicrobatchPtr backward_mb =
      torch::GradMode::is_enabled() ? find_microbatch(backward_pass) : MicrobatchPtr();
  if (!backward_mb) {  // not a phased micro-batch: nothing to interleave with
    runtime::ForwardResult result;
    if (forward_pass.keep_replay != nullptr) {
      result.outputs = forward_once(forward_pass.inputs, build, *forward_pass.keep_replay);
      torch::NoGradGuard no_grad;
      if (forward_pass.criterion != nullptr)
        result.loss = (*forward_pass.criterion)(result.outputs, forward_pass.labels);
    } else {
      result.outputs = forward(forward_pass.inputs, build);
      if (forward_pass.criterion != nullptr)
        result.loss = (*forward_pass.criterion)(result.outputs, forward_pass.labels);
    }
    runtime::run_backward(backward_pass);
    return result;
  }
  // Let autograd carry the gradients down to the stage outputs (through the criterion, if any).
  backward_mb->capture = true;
  try {
    runtime::run_backward(backward_pass);
  } catch (...) {
    backward_mb->capture = false;
    throw;
  }
  backward_mb->capture = false;
  for (std::size_t i = 0;
       i < backward_mb->output_ids.size() && i < backward_mb->output_grads.size(); ++i) {
    backward_mb->tape->add_grad(backward_mb->output_ids[i], backward_mb->output_grads[i]);
  }
  backward_mb->output_grads.clear();

  PhaseProgram program(streams_);
  std::shared_ptr<ExchangeLog> log;
  if (forward_pass.keep_replay != nullptr) {
    log = std::make_shared<ExchangeLog>();
    program.set_exchange_log(log);
  }
  MicrobatchPtr forward_mb = build_microbatch(forward_pass.inputs, build, program);
  std::vector<Phase> forward_phases = program.forward_phases();
  if (log) forward_phases = without_graph(std::move(forward_phases));
  run_interleaved(forward_phases, backward_phases(backward_mb->tape), weight_grads, options);
  deliver_input_grads(*backward_mb);
  backward_mb->tape->release();
  if (log) *forward_pass.keep_replay = std::make_unique<PhasedReplay>(log);
  return finish_forward(forward_mb, forward_pass);
}

}  // namespace dualpipe::moe
