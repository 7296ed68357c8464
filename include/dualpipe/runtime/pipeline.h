// Pipeline: runs any pipeline schedule of the IR (DualPipe, DualPipeV, 1F1B, ZB1P, interleaved
// 1F1B, GPipe, or a hand-made one) over this rank's stage modules, one training step at a time.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dualpipe/runtime/gradient_sync.h"
#include "dualpipe/runtime/host_worker.h"
#include "dualpipe/runtime/p2p_transport.h"
#include "dualpipe/runtime/pipeline_stage.h"
#include "dualpipe/runtime/process_group.h"
#include "dualpipe/runtime/rank_agreement.h"
#include "dualpipe/runtime/stage_streams.h"
#include "dualpipe/runtime/weight_grad_store.h"
#include "dualpipe/schedule/schedule.h"

namespace dualpipe::runtime {

class ActivationLayouts;
struct PreparedSchedule;
struct StepPlan;

// One stage module of this rank and the schedule slot it fills: stage `stage` of direction
// `direction` (DualPipe has directions 0 and 1, every other schedule only 0).
struct LocalStage {
  int direction = 0;
  int stage = 0;
  std::shared_ptr<PipelineStage> module;
  // Activation recomputation: keep only the stage's inputs during the forward and run it again
  // at the start of its backward (PipelineStage::forward_once / forward_again).
  bool recompute = false;
};

// How a Pipeline runs.
struct PipelineOptions {
  std::string schedule = "dualpipe";  // a name schedule::generate_schedule() accepts
  int virtual_stages = 2;             // stages per rank, for "interleaved-1f1b" only
  int64_t batch_dim = 0;              // the dimension step() splits inputs and labels along
  // Layout of every activation (and so gradient) message between stages, declared up front.
  // Empty: the first step exchanges layouts and later steps reuse them until input shapes change.
  MessageMeta activation_layout;
  // Release a stage output's memory once it is sent (its autograd graph stays for the backward).
  bool free_sent_activations = true;
  // Run an overlapped pair's backward on a helper host thread while its forward runs on the
  // calling thread (BackwardPass::worker), so the host work of the two halves overlaps. Results
  // are the same either way. Unset: on for CUDA devices (where the host launching kernels is the
  // bottleneck of small models), off on CPU (where the host does the arithmetic itself).
  std::optional<bool> concurrent_pairs;
  // Run each local stage's compute on a CUDA stream of its own (StageStreams), so the forward
  // and the backward of an overlapped pair share the GPU instead of taking turns. Results are the
  // same either way. Unset: on for CUDA devices when the schedule has overlapped pairs, this rank
  // holds more than one stage and no stage orders its own streams (orders_own_streams()); "on"
  // still leaves a rank with one stage, a CPU device or such a stage on one stream.
  std::optional<bool> stage_streams;
};

// The data of one step. Every rank passes the whole batch it has; a rank only reads the
// micro-batches its stages need.
struct StepInput {
  TensorList inputs;  // batch inputs; needed on ranks that hold a first stage
  TensorList labels;  // batch labels; needed on ranks that hold a last stage (with criterion)
  int num_microbatches = 1;     // in total (DualPipe: half per direction), equal on every rank
  Criterion criterion;          // loss per micro-batch on last stages; required there when training
  bool return_outputs = false;  // also return last-stage outputs
};

// What one step returns on this rank: losses (and outputs) of the micro-batches whose last stage
// it holds. Micro-batch g is slice g of the batch (DualPipe: direction d's micro-batch m is
// g = d * N/2 + m).
struct StepResult {
  std::vector<int> microbatches;    // those micro-batches, ascending
  torch::Tensor losses;             // [microbatches.size()], detached; undefined without criterion
  std::vector<TensorList> outputs;  // per micro-batch, detached; filled when return_outputs
};

// Runs steps of a pipeline schedule on one rank. Construct it on every rank of `group` with that
// rank's stage modules, call step() once per training step (forward-only when gradient mode is
// off, e.g. under torch::NoGradGuard), then step the optimizer (or let a Trainer do all of it).
// Zero-bubble schedules split backwards into I and W: modules that implement DefersWeightGradients
// (e.g. DeferrableLinear) get this pipeline's WeightGradStore; others compute weight gradients
// during I.
//
// Communication is asynchronous: receives are posted where the schedule's RECV actions stand and
// waited for only when their data is needed; sends never block, and their tensors are released
// when they complete. Every action runs inside a profiler scope named annotation_label(action).
//
// Errors: a step first checks (one small exchange through the store) that every rank runs the same
// schedule, micro-batch count and options and has the data it needs; if not, every rank throws
// std::runtime_error naming the rank and problem. An error inside the step (a stage throwing, an
// output of an unexpected shape) stops that rank's compute but not its messages (it sends zeros
// or "failed" headers), so no peer hangs; the step then throws the same message on every rank.
// A lost peer fails communication after `group.timeout`.
class Pipeline {
 public:
  // Generates schedules by options.schedule for each micro-batch count step() is given.
  Pipeline(std::vector<LocalStage> stages, PipelineGroup group, PipelineOptions options = {});
  // Runs the given schedule (with or without SEND_/RECV_ actions) on every step; step()'s
  // num_microbatches must equal its num_microbatches.
  Pipeline(std::vector<LocalStage> stages, PipelineGroup group, schedule::Schedule schedule,
           PipelineOptions options = {});
  ~Pipeline();
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  // Runs one step. Throws std::runtime_error (same message on every rank) when it fails.
  StepResult step(const StepInput& input);

  // Hands the gradient events of every training step to `sync` from now on (e.g.
  // DataParallelGradients over a ParallelMesh, which a Trainer installs). Without one, a schedule
  // that holds stages twice (DualPipe) gets a DataParallelGradients over this pipeline alone, so
  // after step() both copies of a stage hold the sum of their gradients.
  void set_gradient_sync(std::shared_ptr<GradientSync> sync);

  // The parameters of every local stage (for the optimizer).
  std::vector<torch::Tensor> parameters() const;

  // The local stages, as given.
  const std::vector<LocalStage>& stages() const { return stages_; }

  // The pipeline's communicators.
  const PipelineGroup& group() const { return group_; }

  // The schedule (with communication) that `num_microbatches` runs; generated and validated on
  // first use. Throws std::invalid_argument when it cannot be built.
  const schedule::Schedule& schedule_for(int num_microbatches);

 private:
  const PreparedSchedule& prepare(int num_microbatches);
  StepPlan plan_step(const StepInput& input);
  std::string input_signature(const StepInput& input) const;
  void connect_channels(const schedule::Schedule& schedule);
  Agreement agree_or_throw(const std::string& key, const RankReport& report, int64_t index) const;
  StageStreams& streams_for(const PreparedSchedule& prepared);
  GradientSync* gradient_sync_for(const schedule::Schedule& schedule);
  // After a failed step: drops deferred work and learned layouts, waits out `sync`'s reductions.
  void abandon_step(GradientSync* sync);

  std::vector<LocalStage> stages_;
  PipelineGroup group_;
  PipelineOptions options_;
  std::optional<schedule::Schedule> fixed_schedule_;
  std::map<int, std::unique_ptr<PreparedSchedule>> schedules_;  // by micro-batch count
  std::shared_ptr<WeightGradStore> weight_grads_;
  std::unique_ptr<HostWorker> pair_worker_;  // runs overlapped pairs' backwards (concurrent_pairs)
  std::unique_ptr<StageStreams> stage_streams_;     // one stream per local stage (stage_streams)
  StageStreams one_stream_{torch::kCPU, 0, false};  // steps that keep compute on one stream
  P2PTransport transport_;
  std::unique_ptr<ActivationLayouts> layouts_;   // of the messages between stages
  std::shared_ptr<GradientSync> gradient_sync_;  // set, or made for replicated stages
  std::string last_input_signature_;
  std::string key_prefix_;  // this pipeline's keys in the group's store
  int64_t step_index_ = 0;
  bool channels_connected_ = false;
};

// The (direction, stage) slots `rank` holds in the named schedule on `num_ranks` ranks, in the
// order (direction, stage). E.g. DualPipe, 4 ranks, rank 1: {(0,1), (1,2)}.
std::vector<std::pair<int, int>> local_stage_slots(const std::string& schedule_name, int num_ranks,
                                                   int rank, int virtual_stages = 2);

}  // namespace dualpipe::runtime
