#include "step_compute.h"

#include <typeinfo>

#include "communication_error.h"

namespace dualpipe::runtime {

using schedule::Action;
using schedule::Chunk;
using schedule::Op;

namespace {

std::string describe(Op op, const Chunk& c) { return schedule::to_string(Action::compute(op, c)); }

TensorList detached(const TensorList& tensors) {
  TensorList result;
  for (const torch::Tensor& t : tensors) result.push_back(t.detach());
  return result;
}

}  // namespace

TensorList StepCompute::forward_inputs(const Chunk& c) {
  ChunkState& st = step_.state(c);
  TensorList inputs;
  if (c.stage == 0) {
    for (const torch::Tensor& t :
         step_.input_microbatches.at(static_cast<std::size_t>(step_.global_microbatch(c)))) {
      inputs.push_back(t.to(step_.context.group.device, /*non_blocking=*/true));
    }
    return inputs;
  }
  const Chunk previous = shifted(c, -1);
  if (step_.local(previous)) {
    ChunkState& prev = step_.state(previous);
    if (!prev.forward_done)
      throw std::logic_error("forward of " + describe(Op::kF, c) + " before its previous stage");
    inputs = detached(prev.outputs);
    if (!step_.training || prev.replay) prev.outputs.clear();
  } else {
    if (st.input_lost)
      throw std::runtime_error("stopped: rank " + std::to_string(step_.schedule.rank_of(previous)) +
                               " failed and sent no input");
    if (!st.input_message.posted())
      throw std::logic_error("no RECV_F before the forward of " + describe(Op::kF, c));
    inputs = communicate([&] { return "waiting for the input of " + describe(Op::kF, c); },
                         [&] { return st.input_message.wait(); });
  }
  if (step_.training) {
    for (torch::Tensor& t : inputs) {
      if (t.is_floating_point()) t.requires_grad_(true);
    }
  }
  return inputs;
}

TensorList StepCompute::output_grads(const Chunk& c) {
  const Chunk next = shifted(c, 1);
  if (step_.local(next)) return std::move(step_.state(next).input_grads);
  ChunkState& st = step_.state(c);
  if (st.grad_lost)
    throw std::runtime_error("stopped: rank " + std::to_string(step_.schedule.rank_of(next)) +
                             " failed and sent no gradient");
  if (!st.grad_message.posted())
    throw std::logic_error("no RECV_B before the backward of " + describe(Op::kB, c));
  return communicate([&] { return "waiting for the output gradient of " + describe(Op::kB, c); },
                     [&] { return st.grad_message.wait(); });
}

ForwardPass StepCompute::forward_pass(const Chunk& c) {
  ForwardPass pass;
  pass.inputs = forward_inputs(c);
  if (step_.recomputes(c)) pass.keep_replay = &step_.state(c).replay;
  if (step_.schedule.is_last_stage(c) && step_.input.criterion) {
    pass.criterion = &step_.input.criterion;
    if (!step_.label_microbatches.empty())
      pass.labels =
          step_.label_microbatches.at(static_cast<std::size_t>(step_.global_microbatch(c)));
  }
  return pass;
}

void StepCompute::finish_forward(const Chunk& c, ForwardPass& pass, ForwardResult& result) {
  ChunkState& st = step_.state(c);
  st.forward_done = true;
  const bool last = step_.schedule.is_last_stage(c);
  if (last) {
    const int g = step_.global_microbatch(c);
    step_.finished.insert(g);
    if (result.loss.defined()) step_.losses[g] = result.loss.detach();
    if (step_.input.return_outputs) step_.outputs[g] = detached(result.outputs);
  }
  if (step_.training) {
    st.inputs = std::move(pass.inputs);
    st.loss = result.loss;
    if (!last) st.outputs = std::move(result.outputs);
  } else if (!last) {
    st.outputs = std::move(result.outputs);  // kept until sent or handed on
  }
}

void StepCompute::recompute_forward(const Chunk& c) {
  ChunkState& st = step_.state(c);
  ForwardPass pass;
  pass.inputs = st.inputs;
  if (step_.schedule.is_last_stage(c) && step_.input.criterion) {
    pass.criterion = &step_.input.criterion;
    if (!step_.label_microbatches.empty())
      pass.labels =
          step_.label_microbatches.at(static_cast<std::size_t>(step_.global_microbatch(c)));
  }
  ForwardResult result = run_forward_again(step_.module(c), pass, *st.replay);
  st.replay.reset();
  st.loss = result.loss;
  if (!step_.schedule.is_last_stage(c)) st.outputs = std::move(result.outputs);
}

BackwardPass StepCompute::backward_pass(const Chunk& c) {
  ChunkState& st = step_.state(c);
  if (!st.forward_done)
    throw std::logic_error("backward of " + describe(Op::kB, c) + " before its forward");
  if (st.replay) recompute_forward(c);
  BackwardPass pass;
  pass.stage = &step_.module(c);
  if (step_.schedule.is_last_stage(c)) {
    if (!st.loss.defined())
      throw std::invalid_argument("training needs a criterion on the last stage");
    pass.loss = st.loss;
  } else {
    pass.outputs = st.outputs;
    pass.output_grads = output_grads(c);
  }
  return pass;
}

void StepCompute::finish_backward(const Chunk& c) {
  ChunkState& st = step_.state(c);
  if (c.stage > 0) {
    for (const torch::Tensor& t : st.inputs) {
      st.input_grads.push_back(t.grad().defined() ? t.grad() : torch::zeros_like(t));
    }
  }
  st.inputs.clear();
  st.outputs.clear();
  st.loss = torch::Tensor();
}

// Compute runs on the stage streams between a fork and a join (see StageStreams): the passes are
// prepared (messages waited for) on the main stream first, and finished after the join. Tensors
// another local stage made on its stream and hands over (its outputs, its input gradients) are
// marked as read by the receiving stage's stream: the engine may free them while that stream still
// reads them, and the giver's stream may reuse the memory at once. Tensors made on the main stream
// need no mark: it allocates nothing while a fork is open, and its next allocation comes after the
// join.
void StepCompute::forward(const Chunk& c) {
  ForwardPass pass = forward_pass(c);
  ForwardResult result;
  {
    const int i = step_.stage_index(c);
    StageStreams& streams = step_.context.streams;
    const StageStreams::Fork fork(streams, {i});
    if (step_.local(shifted(c, -1))) fork.reads(i, pass.inputs);
    const StageStreams::Use on_stage(streams, i);
    result = run_forward(step_.module_at(i), pass);
  }
  finish_forward(c, pass, result);
}

void StepCompute::backward(const Chunk& c, bool defer_weights) {
  BackwardPass pass = backward_pass(c);
  {
    const int i = step_.stage_index(c);
    StageStreams& streams = step_.context.streams;
    const StageStreams::Fork fork(streams, {i});
    if (step_.local(shifted(c, 1))) fork.reads(i, pass.output_grads);
    const StageStreams::Use on_stage(streams, i);
    if (defer_weights) {
      step_.context.weight_grads.run_deferring(c, [&pass] { run_backward(pass); });
    } else {
      run_backward(pass);
    }
  }
  finish_backward(c);
}

void StepCompute::weight_backward(const Chunk& c) {
  const int i = step_.stage_index(c);
  const StageStreams::Fork fork(step_.context.streams, {i});
  const StageStreams::Use on_stage(step_.context.streams, i);
  step_.context.weight_grads.replay(c);
}

void StepCompute::forward_backward(const Chunk& f, const Chunk& b) {
  ForwardPass fpass = forward_pass(f);
  BackwardPass bpass = backward_pass(b);
  bpass.worker = step_.context.pair_worker;
  const int fi = step_.stage_index(f);
  const int bi = step_.stage_index(b);
  PipelineStage& forward_stage = step_.module_at(fi);
  ForwardResult result;
  {
    StageStreams& streams = step_.context.streams;
    const StageStreams::Fork fork(streams, {fi, bi});
    if (step_.local(shifted(f, -1))) fork.reads(fi, fpass.inputs);
    if (step_.local(shifted(b, 1))) fork.reads(bi, bpass.output_grads);
    bpass.stream = streams.stream(bi);
    const StageStreams::Use on_stage(streams, fi);
    // The stage's hook when both stages have the same type; else the default pairing.
    result = typeid(forward_stage) == typeid(*bpass.stage)
                 ? forward_stage.overlapped_forward_backward(fpass, bpass)
                 : forward_stage.PipelineStage::overlapped_forward_backward(fpass, bpass);
  }
  finish_forward(f, fpass, result);
  finish_backward(b);
}

void StepCompute::run(const Action& action) {
  switch (action.op) {
    case Op::kF: forward(action.chunk); break;
    case Op::kB:
    case Op::kI:
      if (step_.training) backward(action.chunk, action.op == Op::kI);
      break;
    case Op::kW:
      if (step_.training) weight_backward(action.chunk);
      break;
    case Op::kFB:
      if (step_.training) {
        forward_backward(action.chunk, action.backward);
      } else {
        forward(action.chunk);
      }
      break;
    default: break;
  }
}

}  // namespace dualpipe::runtime
