#include "dualpipe/runtime/pipeline.h"

#include <ATen/record_function.h>
#include <c10/util/Exception.h>
#include <c10/util/accumulate.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <algorithm>
#include <set>
#include <stdexcept>
#include <type_traits>
#include <typeinfo>

#include "dualpipe/runtime/microbatch.h"
#include "dualpipe/runtime/rank_agreement.h"
#include "dualpipe/schedule/annotation.h"
#include "dualpipe/schedule/communication.h"
#include "dualpipe/schedule/generators.h"
#include "dualpipe/schedule/message_bundles.h"
#include "dualpipe/schedule/validator.h"

namespace dualpipe::runtime {

using schedule::Action;
using schedule::Chunk;
using schedule::Op;

namespace {

// A failure of communication itself (lost peer, timeout): the step cannot go on.
struct CommunicationError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The first line of an exception's message, without c10's backtrace.
std::string message_of(const std::exception& error) {
  std::string text = error.what();
  if (const auto* c10_error = dynamic_cast<const c10::Error*>(&error))
    text = c10_error->what_without_backtrace();
  return text.substr(0, text.find('\n'));
}

// `what` as text: a string, or a function that makes one (built only when an error needs it).
template <typename What>
std::string text_of(const What& what) {
  if constexpr (std::is_invocable_v<const What&>) {
    return what();
  } else {
    return std::string(what);
  }
}

// Runs a c10d call, turning its failure into a CommunicationError naming `what`.
template <typename What, typename Call>
auto communicate(const What& what, Call&& call) {
  try {
    return call();
  } catch (const std::exception& error) {
    throw CommunicationError(text_of(what) + ": " + message_of(error));
  }
}

std::string describe(const Action& action) { return schedule::to_string(action); }

TensorList detached(const TensorList& tensors) {
  TensorList result;
  for (const torch::Tensor& t : tensors) result.push_back(t.detach());
  return result;
}

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

}  // namespace

struct Pipeline::PreparedSchedule {
  schedule::Schedule schedule;      // with communication
  std::vector<std::string> labels;  // annotation_label of each action of this rank's program
  std::vector<int> bundles;         // schedule::message_bundles of this rank's program
  std::string description;          // what every rank must agree on
  bool has_pairs = false;           // this rank's program has FB actions
};

// Everything one chunk (direction, stage, micro-batch) of this rank holds during a step.
struct ChunkState {
  TensorList inputs;  // leaves; their .grad is the input gradient after the backward
  PendingReceive input_message;
  bool input_lost = false;  // the sender failed and sent no input
  TensorList outputs;       // forward outputs, roots of the backward
  torch::Tensor loss;       // last stage with criterion
  PendingReceive grad_message;
  bool grad_lost = false;
  TensorList input_grads;  // produced by the backward, sent or handed to the previous stage
  bool forward_done = false;
};

// The state of one step on this rank.
struct Pipeline::Run {
  Pipeline& pipe;
  const schedule::Schedule& schedule;
  const StepInput& input;
  StageStreams& streams;  // the pipeline's stage streams, or an inactive set (one stream)
  bool training;
  bool headers;  // every message carries a layout header (layouts not known yet)
  int microbatches_per_direction;
  std::vector<ChunkState> chunks;
  std::vector<TensorList> input_microbatches;
  std::vector<TensorList> label_microbatches;
  std::set<int> finished;  // micro-batches whose last stage ran here
  std::map<int, torch::Tensor> losses;
  std::map<int, TensorList> outputs;
  std::string failure;  // set once this rank failed; it then only keeps its messages going

  Run(Pipeline& p, const schedule::Schedule& s, const StepInput& in, StageStreams& stage_streams,
      bool headers_on)
      : pipe(p),
        schedule(s),
        input(in),
        streams(stage_streams),
        training(torch::GradMode::is_enabled()),
        headers(headers_on),
        microbatches_per_direction(s.microbatches_per_direction()),
        chunks(static_cast<std::size_t>(s.num_directions() * s.num_stages *
                                        microbatches_per_direction)) {}

  int me() const { return pipe.group_.rank; }
  int global_microbatch(const Chunk& c) const {
    return c.direction * microbatches_per_direction + c.microbatch;
  }
  ChunkState& state(const Chunk& c) {
    return chunks.at(static_cast<std::size_t>(
        (c.direction * schedule.num_stages + c.stage) * microbatches_per_direction + c.microbatch));
  }
  bool local(const Chunk& c) const {
    return c.stage >= 0 && c.stage < schedule.num_stages && schedule.rank_of(c) == me();
  }
  static Chunk shifted(Chunk c, int by) {
    c.stage += by;
    return c;
  }
  // Index of the local stage that runs `c` in pipe.stages_.
  int stage_index(const Chunk& c) const {
    for (std::size_t i = 0; i < pipe.stages_.size(); ++i) {
      const LocalStage& s = pipe.stages_[i];
      if (s.direction == c.direction && s.stage == c.stage) return static_cast<int>(i);
    }
    throw std::logic_error("no module for stage " + std::to_string(c.stage));
  }
  PipelineStage& module_at(int index) const {
    return *pipe.stages_[static_cast<std::size_t>(index)].module;
  }
  PipelineStage& module(const Chunk& c) const { return module_at(stage_index(c)); }
  // Message tags: unique per message of the step, equal on both sides.
  int tag(bool gradient, const Chunk& producer) const {
    return ((gradient ? schedule.num_directions() : 0) + producer.direction) * schedule.num_stages *
               microbatches_per_direction +
           producer.stage * microbatches_per_direction + producer.microbatch;
  }

  // ---- data in and out ----------------------------------------------------------------------
  TensorList forward_inputs(const Chunk& c) {
    ChunkState& st = state(c);
    TensorList inputs;
    if (c.stage == 0) {
      for (const torch::Tensor& t :
           input_microbatches.at(static_cast<std::size_t>(global_microbatch(c)))) {
        inputs.push_back(t.to(pipe.group_.device, /*non_blocking=*/true));
      }
      return inputs;
    }
    const Chunk previous = shifted(c, -1);
    if (local(previous)) {
      ChunkState& prev = state(previous);
      if (!prev.forward_done)
        throw std::logic_error("forward of " + describe(Action::compute(Op::kF, c)) +
                               " before its previous stage");
      inputs = detached(prev.outputs);
      if (!training) prev.outputs.clear();
    } else {
      if (st.input_lost)
        throw std::runtime_error("stopped: rank " + std::to_string(schedule.rank_of(previous)) +
                                 " failed and sent no input");
      if (!st.input_message.posted())
        throw std::logic_error("no RECV_F before the forward of " +
                               describe(Action::compute(Op::kF, c)));
      inputs = communicate(
          [&] { return "waiting for the input of " + describe(Action::compute(Op::kF, c)); },
          [&] { return st.input_message.wait(); });
    }
    if (training) {
      for (torch::Tensor& t : inputs) {
        if (t.is_floating_point()) t.requires_grad_(true);
      }
    }
    return inputs;
  }

  TensorList output_grads(const Chunk& c) {
    const Chunk next = shifted(c, 1);
    if (local(next)) return std::move(state(next).input_grads);
    ChunkState& st = state(c);
    if (st.grad_lost)
      throw std::runtime_error("stopped: rank " + std::to_string(schedule.rank_of(next)) +
                               " failed and sent no gradient");
    if (!st.grad_message.posted())
      throw std::logic_error("no RECV_B before the backward of " +
                             describe(Action::compute(Op::kB, c)));
    return communicate(
        [&] {
          return "waiting for the output gradient of " + describe(Action::compute(Op::kB, c));
        },
        [&] { return st.grad_message.wait(); });
  }

  // ---- compute ------------------------------------------------------------------------------
  ForwardPass forward_pass(const Chunk& c) {
    ForwardPass pass;
    pass.inputs = forward_inputs(c);
    if (schedule.is_last_stage(c) && input.criterion) {
      pass.criterion = &input.criterion;
      if (!label_microbatches.empty())
        pass.labels = label_microbatches.at(static_cast<std::size_t>(global_microbatch(c)));
    }
    return pass;
  }

  void finish_forward(const Chunk& c, ForwardPass& pass, ForwardResult& result) {
    ChunkState& st = state(c);
    st.forward_done = true;
    const bool last = schedule.is_last_stage(c);
    if (last) {
      const int g = global_microbatch(c);
      finished.insert(g);
      if (result.loss.defined()) losses[g] = result.loss.detach();
      if (input.return_outputs) outputs[g] = detached(result.outputs);
    }
    if (training) {
      st.inputs = std::move(pass.inputs);
      st.loss = result.loss;
      if (!last) st.outputs = std::move(result.outputs);
    } else if (!last) {
      st.outputs = std::move(result.outputs);  // kept until sent or handed on
    }
  }

  BackwardPass backward_pass(const Chunk& c) {
    ChunkState& st = state(c);
    if (!st.forward_done)
      throw std::logic_error("backward of " + describe(Action::compute(Op::kB, c)) +
                             " before its forward");
    BackwardPass pass;
    pass.stage = &module(c);
    if (schedule.is_last_stage(c)) {
      if (!st.loss.defined())
        throw std::invalid_argument("training needs a criterion on the last stage");
      pass.loss = st.loss;
    } else {
      pass.outputs = st.outputs;
      pass.output_grads = output_grads(c);
    }
    return pass;
  }

  void finish_backward(const Chunk& c) {
    ChunkState& st = state(c);
    if (c.stage > 0) {
      for (const torch::Tensor& t : st.inputs) {
        st.input_grads.push_back(t.grad().defined() ? t.grad() : torch::zeros_like(t));
      }
    }
    st.inputs.clear();
    st.outputs.clear();
    st.loss = torch::Tensor();
  }

  // Compute runs on the stage streams between a fork and a join (see StageStreams): the passes
  // are prepared (messages waited for) on the main stream first, and finished after the join.
  // Tensors another local stage made on its stream and hands over (its outputs, its input
  // gradients) are marked as read by the receiving stage's stream: the engine may free them while
  // that stream still reads them, and the giver's stream may reuse the memory at once. Tensors
  // made on the main stream need no mark: it allocates nothing while a fork is open, and its
  // next allocation comes after the join.
  void forward(const Chunk& c) {
    ForwardPass pass = forward_pass(c);
    ForwardResult result;
    {
      const int i = stage_index(c);
      const StageStreams::Fork fork(streams, {i});
      if (local(shifted(c, -1))) fork.reads(i, pass.inputs);
      const StageStreams::Use on_stage(streams, i);
      result = run_forward(module_at(i), pass);
    }
    finish_forward(c, pass, result);
  }

  void backward(const Chunk& c, bool defer_weights) {
    BackwardPass pass = backward_pass(c);
    {
      const int i = stage_index(c);
      const StageStreams::Fork fork(streams, {i});
      if (local(shifted(c, 1))) fork.reads(i, pass.output_grads);
      const StageStreams::Use on_stage(streams, i);
      if (defer_weights) {
        pipe.weight_grads_->run_deferring(c, [&pass] { run_backward(pass); });
      } else {
        run_backward(pass);
      }
    }
    finish_backward(c);
  }

  void weight_backward(const Chunk& c) {
    const int i = stage_index(c);
    const StageStreams::Fork fork(streams, {i});
    const StageStreams::Use on_stage(streams, i);
    pipe.weight_grads_->replay(c);
  }

  void forward_backward(const Chunk& f, const Chunk& b) {
    ForwardPass fpass = forward_pass(f);
    BackwardPass bpass = backward_pass(b);
    bpass.worker = pipe.pair_worker_.get();
    const int fi = stage_index(f);
    const int bi = stage_index(b);
    PipelineStage& forward_stage = module_at(fi);
    ForwardResult result;
    {
      const StageStreams::Fork fork(streams, {fi, bi});
      if (local(shifted(f, -1))) fork.reads(fi, fpass.inputs);
      if (local(shifted(b, 1))) fork.reads(bi, bpass.output_grads);
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

  void compute(const Action& action) {
    switch (action.op) {
      case Op::kF: forward(action.chunk); break;
      case Op::kB:
      case Op::kI:
        if (training) backward(action.chunk, action.op == Op::kI);
        break;
      case Op::kW:
        if (training) weight_backward(action.chunk);
        break;
      case Op::kFB:
        if (training) {
          forward_backward(action.chunk, action.backward);
        } else {
          forward(action.chunk);
        }
        break;
      default: break;
    }
  }

  // ---- communication ------------------------------------------------------------------------
  // Layout of the messages over the boundary after stage `sender_stage` of `direction`.
  MessageMeta* known_layout(int direction, int sender_stage) {
    auto found = pipe.layouts_.find({direction, sender_stage});
    return found == pipe.layouts_.end() ? nullptr : &found->second;
  }

  // Records (header mode) or checks a layout seen on a boundary; all micro-batches must agree.
  // `what` names the message (a string or a function making one).
  template <typename What>
  void check_layout(int direction, int sender_stage, const MessageMeta& meta, const What& what) {
    if (MessageMeta* known = known_layout(direction, sender_stage)) {
      if (*known != meta) {
        throw std::invalid_argument(text_of(what) + " has layout " + to_string(meta) +
                                    ", expected " + to_string(*known) +
                                    " (as declared or as earlier micro-batches had)");
      }
    } else if (headers) {
      pipe.layouts_[{direction, sender_stage}] = meta;
    } else {
      throw std::logic_error("no layout known for " + text_of(what));
    }
  }

  // The boundary a message crosses, named by the stage that sends over it (layouts_ key).
  static int boundary_of(const Action& action) {
    const int stage = action.chunk.stage;
    return action.op == Op::kSendF || action.op == Op::kRecvB ? stage : stage - 1;
  }

  // The tensors a SEND_ action sends: its chunk's outputs (F) or input gradients (B).
  TensorList* sent_tensors(const Action& action) {
    ChunkState& st = state(action.chunk);
    return action.op == Op::kSendF ? &st.outputs : &st.input_grads;
  }

  // What a send carries: `tensors` when they have the boundary's layout; after a failure, zeros
  // of the known layout, or nothing (header mode: a "failed" header then says so).
  std::optional<TensorList> payload_of(const Action& action, const TensorList& tensors) {
    const int boundary = boundary_of(action);
    const auto what = [&] { return describe(action) + " to rank " + std::to_string(action.peer); };
    std::optional<TensorList> payload;
    if (failure.empty()) {
      try {
        check_layout(action.chunk.direction, boundary, meta_of(tensors), what);
        payload = tensors;
      } catch (const std::exception& error) {
        fail(action, error);
      }
    }
    if (!payload && !headers) {
      const MessageMeta* layout = known_layout(action.chunk.direction, boundary);
      if (layout == nullptr) throw std::logic_error("no layout known for " + what());
      payload = zeros_of(*layout, pipe.group_.device);
    }
    return payload;
  }

  // Sends `tensors` (or, after a failure, zeros / a "failed" header) over a boundary.
  void send(const Action& action, const TensorList* tensors) {
    const auto what = [&] { return describe(action) + " to rank " + std::to_string(action.peer); };
    const int message_tag = tag(action.op == Op::kSendB, action.chunk);
    const std::optional<TensorList> payload = payload_of(action, *tensors);
    communicate(what, [&] {
      if (headers)
        pipe.transport_.send_header(
            action.peer, message_tag,
            payload ? std::optional<MessageMeta>(meta_of(*payload)) : std::nullopt);
      if (payload) pipe.transport_.post_send(action.peer, message_tag, *payload);
      return 0;
    });
  }

  // The chunk that produced the message a RECV_ action receives.
  static Chunk producer_of(const Action& action) {
    return shifted(action.chunk, action.op == Op::kRecvF ? -1 : 1);
  }

  // Where a RECV_ action's message goes.
  PendingReceive& receive_slot(const Action& action) {
    ChunkState& st = state(action.chunk);
    return action.op == Op::kRecvF ? st.input_message : st.grad_message;
  }

  // Posts the receive of a message over a boundary; returns false when its sender failed.
  bool receive(const Action& action, PendingReceive& into) {
    const int boundary_stage = boundary_of(action);
    const auto what = [&] {
      return describe(action) + " from rank " + std::to_string(action.peer);
    };
    const int message_tag = tag(action.op == Op::kRecvB, producer_of(action));
    std::optional<MessageMeta> layout;
    if (headers) {
      layout = communicate(
          what, [&] { return pipe.transport_.receive_header(action.peer, message_tag); });
      if (!layout) return false;
      if (failure.empty()) {
        try {
          check_layout(action.chunk.direction, boundary_stage, *layout, what);
        } catch (const std::exception& error) {
          fail(action, error);
        }
      }
    } else {
      const MessageMeta* known = known_layout(action.chunk.direction, boundary_stage);
      if (known == nullptr) throw std::logic_error("no layout known for " + what());
      layout = *known;
    }
    into = communicate(
        what, [&] { return pipe.transport_.post_receive(action.peer, message_tag, *layout); });
    return true;
  }

  // What is left to do once a SEND_ action's message is posted: drop or free what was sent.
  void finish_send(const Action& action) {
    ChunkState& st = state(action.chunk);
    if (action.op == Op::kSendB) {
      st.input_grads.clear();
    } else if (failure.empty()) {
      if (!training) {
        st.outputs.clear();
      } else if (pipe.options_.free_sent_activations) {
        for (torch::Tensor& t : st.outputs) release_memory(t);
      }
    }
  }

  void communicate_action(const Action& action) {
    ChunkState& st = state(action.chunk);
    const bool gradient = action.op == Op::kSendB || action.op == Op::kRecvB;
    if (gradient && !training) return;
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

  // ---- bundles: consecutive messages to or from one peer as one transfer ---------------------
  // The layouts of the messages of `actions` when they can travel as one flat buffer: training
  // (every message is sent), layouts known on both sides (no headers) and one element type.
  std::optional<std::vector<MessageMeta>> bundle_layouts(const std::vector<Action>& actions) {
    if (!training || headers) return std::nullopt;
    std::vector<MessageMeta> layouts;
    for (const Action& action : actions) {
      const MessageMeta* layout = known_layout(action.chunk.direction, boundary_of(action));
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
  void send_bundle(const std::vector<Action>& actions) {
    TensorList flat;
    for (const Action& action : actions) {
      const std::optional<TensorList> payload = payload_of(action, *sent_tensors(action));
      for (const torch::Tensor& t : *payload) flat.push_back(t.reshape({-1}));
    }
    const Action& first = actions.front();
    communicate(
        [&] { return describe(first) + " (bundled) to rank " + std::to_string(first.peer); },
        [&] {
          pipe.transport_.post_send(first.peer, tag(first.op == Op::kSendB, first.chunk),
                                    {torch::cat(flat)});
          return 0;
        });
    for (const Action& action : actions) finish_send(action);
  }

  // Posts one receive for the messages of consecutive RECV_ actions from one peer.
  void receive_bundle(const std::vector<Action>& actions, const std::vector<MessageMeta>& layouts) {
    int64_t elements = 0;
    for (const MessageMeta& layout : layouts) {
      for (const TensorMeta& tensor : layout) elements += c10::multiply_integers(tensor.shape);
    }
    const Action& first = actions.front();
    const MessageMeta flat{TensorMeta{layouts.front().front().dtype, {elements}}};
    PendingReceive whole = communicate(
        [&] { return describe(first) + " (bundled) from rank " + std::to_string(first.peer); },
        [&] {
          return pipe.transport_.post_receive(
              first.peer, tag(first.op == Op::kRecvB, producer_of(first)), flat);
        });
    std::vector<PendingReceive> parts = std::move(whole).split(layouts);
    for (std::size_t i = 0; i < actions.size(); ++i) receive_slot(actions[i]) = std::move(parts[i]);
  }

  // Runs the consecutive communication actions of one bundle (schedule::message_bundles) as one
  // transfer; `layouts` from bundle_layouts.
  void execute_bundle(const std::vector<Action>& actions, const std::vector<MessageMeta>& layouts) {
    if (actions.front().op == Op::kSendF || actions.front().op == Op::kSendB) {
      send_bundle(actions);
    } else {
      receive_bundle(actions, layouts);
    }
  }

  // ---- driving ------------------------------------------------------------------------------
  void fail(const Action& action, const std::exception& error) {
    if (!failure.empty()) return;
    failure = describe(action) + ": " + message_of(error);
    pipe.weight_grads_->clear();
    for (ChunkState& st : chunks) {
      st.inputs.clear();
      st.outputs.clear();
      st.loss = torch::Tensor();
    }
  }

  // The losses (and outputs) of the micro-batches whose last stage ran here.
  StepResult result() {
    StepResult r;
    r.microbatches.assign(finished.begin(), finished.end());
    std::vector<torch::Tensor> loss_values;
    for (const auto& entry : losses) loss_values.push_back(entry.second);
    if (!loss_values.empty()) r.losses = torch::stack(loss_values);
    for (auto& entry : outputs) r.outputs.push_back(std::move(entry.second));
    return r;
  }

  // Waits for receives that nobody consumed (after a failure), so no transfer outlives its buffer.
  void wait_for_unconsumed_receives() {
    for (ChunkState& st : chunks) {
      for (PendingReceive* message : {&st.input_message, &st.grad_message}) {
        if (message->posted())
          communicate("waiting for an unconsumed message", [&] { return message->wait(); });
      }
    }
  }

  void execute(const Action& action) {
    if (schedule::is_communication(action.op)) {
      communicate_action(action);
      return;
    }
    if (!failure.empty()) return;
    try {
      compute(action);
    } catch (const CommunicationError&) {
      throw;
    } catch (const std::exception& error) {
      fail(action, error);
    }
  }
};

Pipeline::Pipeline(std::vector<LocalStage> stages, PipelineGroup group, PipelineOptions options)
    : stages_(std::move(stages)),
      group_(std::move(group)),
      options_(std::move(options)),
      weight_grads_(std::make_shared<WeightGradStore>()),
      transport_(group_),
      key_prefix_("pipeline" + std::to_string((*group_.pipelines_made)++) + "/") {
  for (const LocalStage& stage : stages_) {
    if (!stage.module)
      throw std::invalid_argument("stage " + std::to_string(stage.stage) + " has no module");
    stage.module->to(group_.device);
    attach_weight_grad_store(*stage.module, weight_grads_);
  }
  if (!options_.activation_layout.empty()) layouts_valid_ = true;
  if (options_.concurrent_pairs.value_or(group_.device.is_cuda()))
    pair_worker_ = std::make_unique<HostWorker>(group_.device);
  const bool streams_can_help =
      stages_.size() > 1 && std::none_of(stages_.begin(), stages_.end(), [](const LocalStage& s) {
        return s.module->orders_own_streams();
      });
  if (options_.stage_streams.value_or(true) && streams_can_help)
    stage_streams_ = std::make_unique<StageStreams>(group_.device, static_cast<int>(stages_.size()),
                                                    /*enabled=*/true);
}

Pipeline::Pipeline(std::vector<LocalStage> stages, PipelineGroup group, schedule::Schedule fixed,
                   PipelineOptions options)
    : Pipeline(std::move(stages), std::move(group), std::move(options)) {
  fixed_schedule_ = std::move(fixed);
}

Pipeline::~Pipeline() {
  for (const LocalStage& stage : stages_) attach_weight_grad_store(*stage.module, nullptr);
}

const schedule::Schedule& Pipeline::schedule_for(int num_microbatches) {
  return prepare(num_microbatches).schedule;
}

const Pipeline::PreparedSchedule& Pipeline::prepare(int num_microbatches) {
  auto found = schedules_.find(num_microbatches);
  if (found != schedules_.end()) return *found->second;
  schedule::Schedule compute;
  if (fixed_schedule_) {
    if (num_microbatches != fixed_schedule_->num_microbatches) {
      throw std::invalid_argument("this pipeline runs a fixed schedule of " +
                                  std::to_string(fixed_schedule_->num_microbatches) +
                                  " micro-batches, not " + std::to_string(num_microbatches));
    }
    compute = *fixed_schedule_;
  } else {
    compute = schedule::generate_schedule(options_.schedule, group_.size, num_microbatches,
                                          options_.virtual_stages);
  }
  if (compute.num_ranks != group_.size) {
    throw std::invalid_argument("schedule " + compute.name + " has " +
                                std::to_string(compute.num_ranks) + " ranks, the process group " +
                                std::to_string(group_.size));
  }
  auto prepared = std::make_unique<PreparedSchedule>();
  prepared->schedule =
      schedule::has_communication(compute) ? compute : schedule::with_communication(compute);
  const std::vector<schedule::Violation> violations =
      schedule::validate(prepared->schedule, schedule::P2PMode::kAsynchronous, 1);
  if (!violations.empty()) {
    throw std::invalid_argument("schedule " + compute.name +
                                " cannot run: " + schedule::to_string(violations.front()));
  }
  check_stages_match(prepared->schedule);
  for (const Action& action :
       prepared->schedule.programs.at(static_cast<std::size_t>(group_.rank))) {
    prepared->labels.push_back(schedule::annotation_label(action));
  }
  prepared->bundles = schedule::message_bundles(prepared->schedule, group_.rank);
  const std::vector<Action>& program =
      prepared->schedule.programs.at(static_cast<std::size_t>(group_.rank));
  prepared->has_pairs = std::any_of(program.begin(), program.end(),
                                    [](const Action& action) { return action.op == Op::kFB; });
  std::string programs;
  for (const auto& program : prepared->schedule.programs) {
    for (const Action& action : program) programs += describe(action) + ";";
  }
  prepared->description =
      "schedule " + compute.name + " on " + std::to_string(compute.num_ranks) + " ranks, " +
      std::to_string(compute.num_stages) + " stages, " + std::to_string(compute.num_microbatches) +
      " micro-batches (program hash " + std::to_string(fingerprint_of(programs)) + ")";
  return *schedules_.emplace(num_microbatches, std::move(prepared)).first->second;
}

void Pipeline::check_stages_match(const schedule::Schedule& s) const {
  for (int d = 0; d < s.num_directions(); ++d) {
    for (int stage = 0; stage < s.num_stages; ++stage) {
      const bool placed_here =
          s.stage_rank[static_cast<std::size_t>(d)][static_cast<std::size_t>(stage)] == group_.rank;
      const bool given = std::any_of(stages_.begin(), stages_.end(), [&](const LocalStage& l) {
        return l.direction == d && l.stage == stage;
      });
      if (placed_here && !given) {
        throw std::invalid_argument(s.name + " places stage " + std::to_string(stage) +
                                    " of direction " + std::to_string(d) + " on rank " +
                                    std::to_string(group_.rank) +
                                    ", but no module was given for it");
      }
    }
  }
  for (const LocalStage& l : stages_) {
    if (l.direction < 0 || l.direction >= s.num_directions() || l.stage < 0 ||
        l.stage >= s.num_stages || s.rank_of(Chunk{l.stage, 0, l.direction}) != group_.rank) {
      throw std::invalid_argument("a module was given for stage " + std::to_string(l.stage) +
                                  " of direction " + std::to_string(l.direction) + ", which " +
                                  s.name + " does not place on rank " +
                                  std::to_string(group_.rank));
    }
  }
}

Agreement Pipeline::agree_or_throw(const std::string& key, const RankReport& report,
                                   int64_t index) const {
  try {
    return agree(group_, key, report);
  } catch (const std::exception& error) {
    throw std::runtime_error("pipeline step " + std::to_string(index) + ": rank " +
                             std::to_string(group_.rank) +
                             " lost contact with the other ranks: " + message_of(error));
  }
}

// NCCL sets up the connection of two ranks at their first message, blocking both until the other
// arrives. Doing that for every channel the schedule uses, in one global order, cannot deadlock
// however the schedule interleaves its messages later.
void Pipeline::connect_channels(const schedule::Schedule& s) {
  std::set<std::pair<int, int>> channels;  // (sender, receiver)
  for (std::size_t r = 0; r < s.programs.size(); ++r) {
    for (const Action& action : s.programs[r]) {
      if (action.op == Op::kSendF || action.op == Op::kSendB)
        channels.emplace(static_cast<int>(r), action.peer);
    }
  }
  const torch::Tensor token = torch::zeros({1}, torch::TensorOptions().device(group_.device));
  for (const auto& [sender, receiver] : channels) {
    if (sender == group_.rank) {
      transport_.post_send(receiver, 0, {token});
      transport_.wait_for_sends();
    } else if (receiver == group_.rank) {
      transport_.post_receive(sender, 0, meta_of({token})).wait();
    }
  }
}

void Pipeline::forget_learned_layouts() {
  if (!options_.activation_layout.empty()) return;  // declared layouts never change
  layouts_.clear();
  layouts_valid_ = false;
}

std::string Pipeline::input_signature(const StepInput& input) const {
  return to_string(meta_of(input.inputs)) + to_string(meta_of(input.labels));
}

// What a step needs before it can run, or why it cannot (in report.failure).
struct Pipeline::StepPlan {
  const PreparedSchedule* prepared = nullptr;
  std::vector<TensorList> input_microbatches;  // when this rank holds a first stage
  std::vector<TensorList> label_microbatches;  // when it holds a last stage and got labels
  RankReport report;
};

Pipeline::StepPlan Pipeline::plan_step(const StepInput& input) {
  StepPlan plan;
  const bool training = torch::GradMode::is_enabled();
  const std::string rank = "rank " + std::to_string(group_.rank);
  try {
    plan.prepared = &prepare(input.num_microbatches);
    const int last_stage = plan.prepared->schedule.num_stages - 1;
    const auto holds = [&](int stage) {
      return std::any_of(stages_.begin(), stages_.end(),
                         [&](const LocalStage& l) { return l.stage == stage; });
    };
    if (holds(0)) {
      if (input.inputs.empty())
        throw std::invalid_argument(rank + " holds a first stage but got no inputs");
      plan.input_microbatches =
          split_microbatches(input.inputs, input.num_microbatches, options_.batch_dim);
    }
    if (holds(last_stage)) {
      if (training && !input.criterion) {
        throw std::invalid_argument(rank +
                                    " holds a last stage but got no criterion to train with");
      }
      if (!input.labels.empty()) {
        plan.label_microbatches =
            split_microbatches(input.labels, input.num_microbatches, options_.batch_dim);
      }
    }
    plan.report.description = plan.prepared->description;
  } catch (const std::exception& error) {
    plan.report.failure = message_of(error);
    plan.report.description =
        "a step of " + std::to_string(input.num_microbatches) + " micro-batches";
  }
  plan.report.description += training ? ", training" : ", forward only";
  if (!options_.activation_layout.empty()) {
    plan.report.description += ", activations " + to_string(options_.activation_layout);
  }
  plan.report.fingerprint = fingerprint_of(plan.report.description);
  plan.report.changed = input_signature(input) != last_input_signature_;
  return plan;
}

void Pipeline::run_program(Run& run, const PreparedSchedule& prepared) {
  const std::vector<Action>& program =
      prepared.schedule.programs[static_cast<std::size_t>(group_.rank)];
  for (std::size_t i = 0; i < program.size();) {
    auto length = static_cast<std::size_t>(std::max(prepared.bundles[i], 1));
    std::vector<Action> bundle;
    std::optional<std::vector<MessageMeta>> layouts;
    if (length > 1) {
      bundle.assign(program.begin() + static_cast<std::ptrdiff_t>(i),
                    program.begin() + static_cast<std::ptrdiff_t>(i + length));
      layouts = run.bundle_layouts(bundle);
      if (!layouts) length = 1;  // e.g. layouts not known yet: the actions run one by one
    }
    {
      RECORD_USER_SCOPE(prepared.labels[i].c_str());
      if (length == 1) {
        run.execute(program[i]);
      } else {
        run.execute_bundle(bundle, *layouts);
      }
    }
    // The other actions of a bundle ran inside the first one's scope; theirs mark where they are.
    for (std::size_t k = i + 1; k < i + length; ++k) {
      RECORD_USER_SCOPE(prepared.labels[k].c_str());
    }
    transport_.release_finished_sends();
    i += length;
  }
  run.wait_for_unconsumed_receives();
  communicate("waiting for sends to complete", [&] {
    transport_.wait_for_sends();
    return 0;
  });
}

StepResult Pipeline::step(const StepInput& input) {
  const int64_t index = step_index_++;
  const std::string name = "pipeline step " + std::to_string(index);
  const std::string key = key_prefix_ + "step" + std::to_string(index);

  // 1. Local checks, then agreement of all ranks on the step.
  StepPlan plan = plan_step(input);
  const Agreement start = agree_or_throw(key + "/start", plan.report, index);
  if (!start.error.empty()) throw std::runtime_error(name + ": " + start.error);
  const PreparedSchedule& prepared = *plan.prepared;
  last_input_signature_ = input_signature(input);
  if (start.any_changed || !layouts_valid_) forget_learned_layouts();
  if (!options_.activation_layout.empty() && layouts_.empty()) {
    for (int d = 0; d < prepared.schedule.num_directions(); ++d) {
      for (int s = 0; s + 1 < prepared.schedule.num_stages; ++s)
        layouts_[{d, s}] = options_.activation_layout;
    }
  }
  if (!channels_connected_) {
    try {
      connect_channels(prepared.schedule);
    } catch (const std::exception& error) {
      throw std::runtime_error(name + ": rank " + std::to_string(group_.rank) +
                               " cannot reach its peers: " + message_of(error));
    }
    channels_connected_ = true;
  }

  // 2. Run this rank's program. Only communication failures stop it early.
  StageStreams& streams = stage_streams_ && options_.stage_streams.value_or(prepared.has_pairs)
                              ? *stage_streams_
                              : one_stream_;
  Run run(*this, prepared.schedule, input, streams, !layouts_valid_);
  run.input_microbatches = std::move(plan.input_microbatches);
  run.label_microbatches = std::move(plan.label_microbatches);
  try {
    run_program(run, prepared);
  } catch (const std::exception& error) {
    weight_grads_->clear();
    forget_learned_layouts();
    throw std::runtime_error(name + ": rank " + std::to_string(group_.rank) + ": " +
                             message_of(error));
  }
  if (run.failure.empty() && run.training && weight_grads_->pending_groups() != 0) {
    run.failure = std::to_string(weight_grads_->pending_groups()) +
                  " deferred weight gradients were never replayed by a W";
  }

  // 3. Agree on the outcome.
  plan.report.failure = run.failure;
  const Agreement end = agree_or_throw(key + "/end", plan.report, index);
  if (!end.error.empty()) {
    weight_grads_->clear();
    forget_learned_layouts();
    throw std::runtime_error(name + " failed: " + end.error);
  }
  layouts_valid_ = true;
  return run.result();
}

void Pipeline::synchronize_replica_gradients() {
  if (schedules_.empty()) return;
  const schedule::Schedule& s = schedules_.begin()->second->schedule;
  struct Exchange {
    std::vector<torch::Tensor> grads;
    PendingReceive incoming;
  };
  std::vector<Exchange> exchanges;
  for (int stage = 0; stage < s.num_stages; ++stage) {
    for (const LocalStage& l : stages_) {
      if (l.stage != stage) continue;
      for (int d = 0; d < s.num_directions(); ++d) {
        if (d == l.direction) continue;
        const int partner = s.rank_of(Chunk{stage, 0, d});
        if (partner == group_.rank) {
          throw std::invalid_argument("stage " + std::to_string(stage) + " is held twice by rank " +
                                      std::to_string(partner));
        }
        Exchange exchange;
        for (torch::Tensor& p : l.module->parameters()) {
          if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
          exchange.grads.push_back(p.grad());
        }
        if (exchange.grads.empty()) continue;
        std::vector<torch::Tensor> flat;
        for (const torch::Tensor& g : exchange.grads) flat.push_back(g.reshape({-1}));
        const torch::Tensor mine = torch::cat(flat);
        const std::string what = "exchanging the gradients of stage " + std::to_string(stage) +
                                 " with rank " + std::to_string(partner);
        communicate(what, [&] {
          exchange.incoming = transport_.post_receive(partner, stage, meta_of({mine}));
          transport_.post_send(partner, stage, {mine});
          return 0;
        });
        exchanges.push_back(std::move(exchange));
      }
    }
  }
  for (Exchange& exchange : exchanges) {
    const torch::Tensor theirs =
        communicate("receiving replica gradients", [&] { return exchange.incoming.wait().at(0); });
    int64_t offset = 0;
    for (torch::Tensor& g : exchange.grads) {
      g.add_(theirs.narrow(0, offset, g.numel()).view_as(g));
      offset += g.numel();
    }
  }
  communicate("sending replica gradients", [&] {
    transport_.wait_for_sends();
    return 0;
  });
}

std::vector<torch::Tensor> Pipeline::parameters() const {
  std::vector<torch::Tensor> result;
  for (const LocalStage& l : stages_) {
    for (const torch::Tensor& p : l.module->parameters()) result.push_back(p);
  }
  return result;
}

std::vector<std::pair<int, int>> local_stage_slots(const std::string& schedule_name, int num_ranks,
                                                   int rank, int virtual_stages) {
  const schedule::Schedule s =
      schedule::generate_schedule(schedule_name, num_ranks, 2 * num_ranks, virtual_stages);
  std::vector<std::pair<int, int>> slots;
  for (int d = 0; d < s.num_directions(); ++d) {
    for (int stage = 0; stage < s.num_stages; ++stage) {
      if (s.stage_rank[static_cast<std::size_t>(d)][static_cast<std::size_t>(stage)] == rank)
        slots.emplace_back(d, stage);
    }
  }
  return slots;
}

}  // namespace dualpipe::runtime
