// StepState: what one pipeline step holds on this rank (per chunk: inputs, outputs, messages,
// gradients; per step: micro-batches, losses, the failure), and StepContext, the pipeline's parts
// the step works with.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "activation_layouts.h"
#include "dualpipe/runtime/gradient_sync.h"
#include "dualpipe/runtime/host_worker.h"
#include "dualpipe/runtime/p2p_transport.h"
#include "dualpipe/runtime/pipeline.h"
#include "dualpipe/runtime/stage_streams.h"
#include "dualpipe/runtime/weight_grad_store.h"
#include "dualpipe/schedule/schedule.h"

namespace dualpipe::runtime {

// The parts of a Pipeline that one step works with, referenced for the step's duration.
struct StepContext {
  const std::vector<LocalStage>& stages;
  const PipelineGroup& group;
  const PipelineOptions& options;
  WeightGradStore& weight_grads;
  HostWorker* pair_worker;  // runs overlapped pairs' backwards, or null
  P2PTransport& transport;
  ActivationLayouts& layouts;
  StageStreams& streams;        // the pipeline's stage streams, or an inactive set (one stream)
  GradientSync* gradient_sync;  // told when a stage's gradients are final, or null
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
  // Set when the forward ran without a graph (LocalStage::recompute): what running it again at
  // the start of the backward needs. `outputs` then hold no graph and are dropped once sent.
  std::unique_ptr<ForwardReplay> replay;
};

// The state of one step on this rank.
struct StepState {
  StepState(const StepContext& context, const schedule::Schedule& schedule, const StepInput& input,
            bool training, bool headers);

  const StepContext& context;
  const schedule::Schedule& schedule;
  const StepInput& input;
  bool training;
  bool headers;  // every message carries a layout header (layouts not known yet)
  int microbatches_per_direction;
  std::vector<ChunkState> chunks;
  std::vector<TensorList> input_microbatches;  // when this rank holds a first stage
  std::vector<TensorList> label_microbatches;  // when it holds a last stage and got labels
  std::set<int> finished;                      // micro-batches whose last stage ran here
  std::map<int, torch::Tensor> losses;
  std::map<int, TensorList> outputs;
  std::string failure;  // set once this rank failed; it then only keeps its messages going

  int rank() const { return context.group.rank; }
  int global_microbatch(const schedule::Chunk& c) const {
    return c.direction * microbatches_per_direction + c.microbatch;
  }
  ChunkState& state(const schedule::Chunk& c);
  // True when `c` is a stage of the schedule that this rank runs.
  bool local(const schedule::Chunk& c) const {
    return c.stage >= 0 && c.stage < schedule.num_stages && schedule.rank_of(c) == rank();
  }
  // Index of the local stage that runs `c` in context.stages.
  int stage_index(const schedule::Chunk& c) const;
  PipelineStage& module_at(int index) const {
    return *context.stages[static_cast<std::size_t>(index)].module;
  }
  PipelineStage& module(const schedule::Chunk& c) const { return module_at(stage_index(c)); }
  // True when `c`'s stage recomputes its forward in the backward and this step trains.
  bool recomputes(const schedule::Chunk& c) const {
    return training && context.stages[static_cast<std::size_t>(stage_index(c))].recompute;
  }

  // Records this rank's first failure (in `action`) and drops what compute would still need; the
  // rank then only keeps its messages going.
  void fail(const schedule::Action& action, const std::exception& error);

  // The losses (and outputs) of the micro-batches whose last stage ran here.
  StepResult result();
};

// `c` moved by `by` stages.
inline schedule::Chunk shifted(schedule::Chunk c, int by) {
  c.stage += by;
  return c;
}

}  // namespace dualpipe::runtime
