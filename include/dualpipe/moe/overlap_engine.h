// OverlapEngine: runs micro-batches through a phase-structured stage, either phase by phase in
// order (a plain forward, with a backward that autograd can drive) or as an overlapped pair: the
// forward of one micro-batch interleaved with the backward of another so that every
// communication phase of one runs while a compute phase of the other runs.
#pragma once

#include <torch/types.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "dualpipe/moe/comm_streams.h"
#include "dualpipe/moe/phase_program.h"
#include "dualpipe/runtime/pipeline_stage.h"
#include "dualpipe/runtime/weight_grad_store.h"

namespace dualpipe::moe {

// Runs `phases` in order; each communication is waited for before the next phase starts.
void run_in_order(const std::vector<Phase>& phases);

// One step of an interleaved pair: the forward phase and the backward phase it runs (-1: none).
struct PairStep {
  int forward = -1;
  int backward = -1;
};

// Which pass runs a phase alone when the next phases of both are of the same kind (for a MoE
// stage: at the start of the pair only, after which compute and communication alternate).
enum class PairOrder {
  // attn(F) alone first, then dispatch(F) beside combine(B)'s sum, combine(B) beside mlp(F),
  // combine(F) beside mlp(B), dispatch(B) beside attn(F); attn(B) alone at the end.
  kForwardFirst,
  // DeepSeek-V3's pairing (its report's figure 4): combine(B)'s sum alone first, then combine(B)
  // beside attn(F), dispatch(F) beside mlp(B), dispatch(B) beside mlp(F), combine(F) beside
  // attn(B); the forward's last sum alone at the end. No exchange has only a sum beside it.
  kBackwardFirst,
};

// The steps run_interleaved takes: each queue runs in its own order; a step pairs the next phase
// of one queue with the next phase of the other when one is compute and the other communication;
// otherwise the next phase of the pass `order` names runs alone (or of the only queue left).
std::vector<PairStep> interleaving(const std::vector<Phase>& forward,
                                   const std::vector<Phase>& backward,
                                   PairOrder order = PairOrder::kForwardFirst);

// The names of the backward compute phases whose weight gradients an overlapped pair runs as W
// phases one step later (the others compute theirs in place).
using WeightPhaseNames = std::vector<std::string>;

// Both kinds of a MoE layer's backward compute: {"attn", "mlp"}.
const WeightPhaseNames& all_weight_phases();

// What overlapped pairs defer unless told otherwise: {"attn"}, attention's weight gradients only.
// On 2 H200s that made the MoE pair 0.6-0.9 ms (2%) faster than deferring the experts' too, in
// 6 of 6 alternated runs (docs/performance.md): computed in place, the experts' weight gradients
// fill the wait for combine(F), the exchange that was left the most exposed.
const WeightPhaseNames& default_weight_phases();

// How an overlapped pair interleaves its forward and backward phases.
struct PairOptions {
  PairOrder order = PairOrder::kForwardFirst;
  // The backward compute phases that defer their weight gradients (see run_interleaved).
  WeightPhaseNames deferred_weights = default_weight_phases();
};

// Runs a forward and a backward interleaved (see interleaving; `options.order`). A step starts its
// communication, then runs (CUDA: issues) its compute, then waits for the communication. CPU: c10d
// runs the communication on its own threads. CUDA: the communication runs on the communication
// stream after the work issued before the step (CommStreams), the compute on the compute stream
// beside it, and the compute stream waits for the communication at the end of the step; the host
// does not wait, except for the split sizes of a dispatch. With `weight_grads` (a zero-bubble store
// that is not deferring), the backward's compute phases named in `options.deferred_weights` compute
// input gradients only; their weight gradients run as W phases
// ("attn(W)", "mlp(W)") at the start of the next step's compute, after that step's communication
// was started, so the communication that needs those input gradients does not wait for them.
// That fills the next step's wait; computing them in place fills this step's wait instead.
void run_interleaved(const std::vector<Phase>& forward, const std::vector<Phase>& backward,
                     runtime::WeightGradStore* weight_grads = nullptr,
                     const PairOptions& options = {});

// Appends a stage's forward phases to `program` for the stage inputs stored as `inputs`, and
// returns the values holding the stage outputs.
using ProgramBuilder =
    std::function<std::vector<ValueId>(PhaseProgram& program, const std::vector<ValueId>& inputs)>;

// What a phased forward run without a graph keeps to run again for the backward: what its
// exchanges received (the second forward recomputes only the compute phases).
class PhasedReplay : public runtime::ForwardReplay {
 public:
  explicit PhasedReplay(std::shared_ptr<ExchangeLog> exchanges) : log(std::move(exchanges)) {}
  std::shared_ptr<ExchangeLog> log;
};

class OverlapEngine {
 public:
  explicit OverlapEngine(torch::Device device);

  CommStreams& streams() { return *streams_; }

  // The forward of one micro-batch, phase by phase in order. With grad mode on, the outputs hang
  // off one autograd node whose backward runs the micro-batch's backward phases in order, so
  // runtime::run_backward (or any autograd call) backpropagates through it like through a plain
  // module.
  runtime::TensorList forward(const runtime::TensorList& inputs, const ProgramBuilder& build);

  // Activation recomputation: the forward without a graph, its exchanges recorded into `replay`;
  // then, for the backward, the same forward again with its graph, the exchanges' results taken
  // from the record (no tokens are sent twice; their gradients travel as usual).
  runtime::TensorList forward_once(const runtime::TensorList& inputs, const ProgramBuilder& build,
                                   std::unique_ptr<runtime::ForwardReplay>& replay);
  runtime::TensorList forward_again(const runtime::TensorList& inputs, const ProgramBuilder& build,
                                    PhasedReplay& replay);

  // The overlapped pair: the forward of `forward_pass` (built with `build`) interleaved with the
  // backward `backward_pass` describes (with forward_pass.keep_replay: the forward without a graph,
  // as forward_once). The backward's micro-batch must have been run by
  // forward() or forward_backward() of a stage using this engine type; otherwise (or without grad
  // mode) it falls back to forward, then runtime::run_backward. Same effects as that fallback:
  // parameter and stage-input gradients, returned outputs and loss. `weight_grads`, `options`: see
  // run_interleaved.
  runtime::ForwardResult forward_backward(const runtime::ForwardPass& forward_pass,
                                          const ProgramBuilder& build,
                                          const runtime::BackwardPass& backward_pass,
                                          runtime::WeightGradStore* weight_grads = nullptr,
                                          const PairOptions& options = {});

 private:
  std::shared_ptr<CommStreams> streams_;
};

}  // namespace dualpipe::moe
