#include "step_messages.h"

#include <c10/util/accumulate.h>

#include "communication_error.h"

namespace dualpipe::runtime {

using schedule::Action;
using schedule::Chunk;
using schedule::Op;

namespace {

TensorList zeros_of(const MessageMeta& meta, torch::Device device) {
  TensorList result;
  for (const TensorMeta& m : meta)
    result.push_back(torch::zeros(m.shape, torch::TensorOptions().dtype(m.dtype).device(device)));
  return result;
}

// Releases a tensor's memory while keeping its autograd identity (a backward root needs only its
// grad_fn). Views and leaves (e.g. an input a stage passed through) share memory with tensors that
// are still needed and are left alone.
void release_memory(torch::Tensor& tensor) {
  if (!tensor.is_view() && !tensor.is_leaf()) tensor.set_data(torch::empty({0}, tensor.options()));
}

// The boundary a message crosses, named by the stage that sends over it (ActivationLayouts key).
int boundary_of(const Action& action) {
  const int stage = action.chunk.stage;
  return action.op == Op::kSendF || action.op == Op::kRecvB ? stage : stage - 1;
}

// The chunk that produced the message a RECV_ action receives.
Chunk producer_of(const Action& action) {
  return shifted(action.chunk, action.op == Op::kRecvF ? -1 : 1);
}

bool is_send(Op op) { return op == Op::kSendF || op == Op::kSendB; }

}  // namespace

// Message tags: unique per message of the step, equal on both sides.
int StepMessages::tag(bool gradient, const Chunk& producer) const {
  const schedule::Schedule& s = step_.schedule;
  const int per_stage = step_.microbatches_per_direction;
  return ((gradient ? s.num_directions() : 0) + producer.direction) * s.num_stages * per_stage +
         producer.stage * per_stage + producer.microbatch;
}

// The tensors a SEND_ action sends: its chunk's outputs (F) or input gradients (B).
TensorList* StepMessages::sent_tensors(const Action& action) {
  ChunkState& st = step_.state(action.chunk);
  return action.op == Op::kSendF ? &st.outputs : &st.input_grads;
}

// What a send carries: `tensors` when they have the boundary's layout; after a failure, zeros of
// the known layout, or nothing (header mode: a "failed" header then says so).
std::optional<TensorList> StepMessages::payload_of(const Action& action,
                                                   const TensorList& tensors) {
  const int boundary = boundary_of(action);
  const auto what = [&] {
    return schedule::to_string(action) + " to rank " + std::to_string(action.peer);
  };
  ActivationLayouts& layouts = step_.context.layouts;
  std::optional<TensorList> payload;
  if (step_.failure.empty()) {
    try {
      layouts.check(action.chunk.direction, boundary, meta_of(tensors), step_.headers, what);
      payload = tensors;
    } catch (const std::exception& error) {
      step_.fail(action, error);
    }
  }
  if (!payload && !step_.headers) {
    const MessageMeta* layout = layouts.known(action.chunk.direction, boundary);
    if (layout == nullptr) throw std::logic_error("no layout known for " + what());
    payload = zeros_of(*layout, step_.context.group.device);
  }
  return payload;
}

// Sends `tensors` (or, after a failure, zeros / a "failed" header) over a boundary.
void StepMessages::send(const Action& action, const TensorList* tensors) {
  const auto what = [&] {
    return schedule::to_string(action) + " to rank " + std::to_string(action.peer);
  };
  const int message_tag = tag(action.op == Op::kSendB, action.chunk);
  const std::optional<TensorList> payload = payload_of(action, *tensors);
  P2PTransport& transport = step_.context.transport;
  communicate(what, [&] {
    if (step_.headers)
      transport.send_header(action.peer, message_tag,
                            payload ? std::optional<MessageMeta>(meta_of(*payload)) : std::nullopt);
    if (payload) transport.post_send(action.peer, message_tag, *payload);
    return 0;
  });
}

// Where a RECV_ action's message goes.
PendingReceive& StepMessages::receive_slot(const Action& action) {
  ChunkState& st = step_.state(action.chunk);
  return action.op == Op::kRecvF ? st.input_message : st.grad_message;
}

// Posts the receive of a message over a boundary; returns false when its sender failed.
bool StepMessages::receive(const Action& action, PendingReceive& into) {
  const int boundary_stage = boundary_of(action);
  const auto what = [&] {
    return schedule::to_string(action) + " from rank " + std::to_string(action.peer);
  };
  const int message_tag = tag(action.op == Op::kRecvB, producer_of(action));
  P2PTransport& transport = step_.context.transport;
  ActivationLayouts& layouts = step_.context.layouts;
  std::optional<MessageMeta> layout;
  if (step_.headers) {
    layout = communicate(what, [&] { return transport.receive_header(action.peer, message_tag); });
    if (!layout) return false;
    if (step_.failure.empty()) {
      try {
        layouts.check(action.chunk.direction, boundary_stage, *layout, true, what);
      } catch (const std::exception& error) {
        step_.fail(action, error);
      }
    }
  } else {
    const MessageMeta* known = layouts.known(action.chunk.direction, boundary_stage);
    if (known == nullptr) throw std::logic_error("no layout known for " + what());
    layout = *known;
  }
  into =
      communicate(what, [&] { return transport.post_receive(action.peer, message_tag, *layout); });
  return true;
}

// What is left to do once a SEND_ action's message is posted: drop or free what was sent.
void StepMessages::finish_send(const Action& action) {
  ChunkState& st = step_.state(action.chunk);
  if (action.op == Op::kSendB) {
    st.input_grads.clear();
  } else if (step_.failure.empty()) {
    if (!step_.training || st.replay) {
      st.outputs.clear();
    } else if (step_.context.options.free_sent_activations) {
      for (torch::Tensor& t : st.outputs) release_memory(t);
    }
  }
}

void StepMessages::run(const Action& action) {
  ChunkState& st = step_.state(action.chunk);
  const bool gradient = action.op == Op::kSendB || action.op == Op::kRecvB;
  if (gradient && !step_.training) return;
  switch (action.op) {
    case Op::kSendF:
    case Op::kSendB:
      send(action, sent_tensors(action));
      finish_send(action);
      break;
    case Op::kRecvF: st.input_lost = !receive(action, st.input_message); break;
    case Op::kRecvB: st.grad_lost = !receive(action, st.grad_message); break;
    default: break;
  }
}

std::optional<std::vector<MessageMeta>> StepMessages::bundle_layouts(
    const std::vector<Action>& actions) {
  if (!step_.training || step_.headers) return std::nullopt;
  std::vector<MessageMeta> layouts;
  for (const Action& action : actions) {
    const MessageMeta* layout =
        step_.context.layouts.known(action.chunk.direction, boundary_of(action));
    if (layout == nullptr || layout->empty()) return std::nullopt;
    layouts.push_back(*layout);
  }
  const torch::ScalarType dtype = layouts.front().front().dtype;
  for (const MessageMeta& layout : layouts) {
    for (const TensorMeta& tensor : layout) {
      if (tensor.dtype != dtype) return std::nullopt;
    }
  }
  return layouts;
}

// Sends the messages of consecutive SEND_ actions to one peer as one flat buffer.
void StepMessages::send_bundle(const std::vector<Action>& actions) {
  TensorList flat;
  for (const Action& action : actions) {
    const std::optional<TensorList> payload = payload_of(action, *sent_tensors(action));
    for (const torch::Tensor& t : *payload) flat.push_back(t.reshape({-1}));
  }
  const Action& first = actions.front();
  communicate(
      [&] {
        return schedule::to_string(first) + " (bundled) to rank " + std::to_string(first.peer);
      },
      [&] {
        step_.context.transport.post_send(first.peer, tag(first.op == Op::kSendB, first.chunk),
                                          {torch::cat(flat)});
        return 0;
      });
  for (const Action& action : actions) finish_send(action);
}

// Posts one receive for the messages of consecutive RECV_ actions from one peer.
void StepMessages::receive_bundle(const std::vector<Action>& actions,
                                  const std::vector<MessageMeta>& layouts) {
  int64_t elements = 0;
  for (const MessageMeta& layout : layouts) {
    for (const TensorMeta& tensor : layout) elements += c10::multiply_integers(tensor.shape);
  }
  const Action& first = actions.front();
  const MessageMeta flat{TensorMeta{layouts.front().front().dtype, {elements}}};
  PendingReceive whole = communicate(
      [&] {
        return schedule::to_string(first) + " (bundled) from rank " + std::to_string(first.peer);
      },
      [&] {
        return step_.context.transport.post_receive(
            first.peer, tag(first.op == Op::kRecvB, producer_of(first)), flat);
      });
  std::vector<PendingReceive> parts = std::move(whole).split(layouts);
  for (std::size_t i = 0; i < actions.size(); ++i) receive_slot(actions[i]) = std::move(parts[i]);
}

void StepMessages::run_bundle(const std::vector<Action>& actions,
                              const std::vector<MessageMeta>& layouts) {
  if (is_send(actions.front().op)) {
    send_bundle(actions);
  } else {
    receive_bundle(actions, layouts);
  }
}

void StepMessages::wait_for_unconsumed_receives() {
  for (ChunkState& st : step_.chunks) {
    for (PendingReceive* message : {&st.input_message, &st.grad_message}) {
      if (message->posted())
        communicate("waiting for an unconsumed message", [&] { return message->wait(); });
    }
  }
}

}  // namespace dualpipe::runtime
