// Trainer: one training step of pipeline x data (x expert) parallelism on this rank: the pipeline
// step (gradients reduced across ranks while its drain still runs), gradient clipping by global
// norm, dynamic loss scaling, and the optimizer (optionally ZeRO-1 sharded); checkpoints of all of
// it.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dualpipe/runtime/data_parallel_gradients.h"
#include "dualpipe/runtime/distributed_optimizer.h"
#include "dualpipe/runtime/loss_scaler.h"
#include "dualpipe/runtime/parallel_mesh.h"
#include "dualpipe/runtime/pipeline.h"

namespace dualpipe::runtime {

// How a Trainer trains.
struct TrainerOptions {
  int num_microbatches = 1;  // per step and replica (the schedule's N)
  bool zero = false;         // ZeRO-1: optimizer state sharded over the ranks holding a stage
  double clip_norm = 0.0;    // clip gradients to this global norm; 0: no clipping
  std::optional<LossScalerOptions> loss_scaling;  // dynamic loss scaling (mixed precision)
  int64_t bucket_bytes = int64_t{25} << 20;       // gradient reduction buckets
  int keep_checkpoints = 2;     // save() keeps this many newest checkpoints; 0: all
  bool measure_memory = false;  // fill TrainStepResult::memory (resets the device's peak counter)
};

// Device memory during one training step, in bytes (the CUDA caching allocator's counters).
struct StepMemory {
  int64_t at_start = 0;       // held when the step began (parameters, gradients, optimizer state)
  int64_t schedule_peak = 0;  // the most held while the pipeline schedule ran
  int64_t step_peak = 0;      // the most held during the whole step, the optimizer's included
  // What the schedule held above the start at its peak: activations of the micro-batches in
  // flight, their recomputation, the messages and the gradient buckets.
  int64_t activations() const { return schedule_peak - at_start; }
};

// The largest held-at-start, activations and step peak over several steps' StepMemory.
struct LargestStepMemory {
  int64_t at_start = 0;
  int64_t activations = 0;
  int64_t step_peak = 0;
  void add(const StepMemory& step) {
    at_start = std::max(at_start, step.at_start);
    activations = std::max(activations, step.activations());
    step_peak = std::max(step_peak, step.step_peak);
  }
};

// What one training step did on this rank.
struct TrainStepResult {
  StepResult step;          // losses (unscaled) of the micro-batches whose last stage is here
  double grad_norm = 0.0;   // global gradient norm before clipping (every parameter once)
  bool skipped = false;     // the gradients overflowed: no optimizer step (loss scaling)
  double loss_scale = 1.0;  // the scale the step's loss was multiplied by
  std::optional<StepMemory> memory;  // with TrainerOptions::measure_memory, on a CUDA device
};

// Bytes this rank holds, by kind.
struct MemoryUsage {
  int64_t parameters = 0;       // the stages' parameters
  int64_t gradients = 0;        // their gradients
  int64_t optimizer_state = 0;  // optimizer state and master copies (falls as 1/n with ZeRO-1)
};

struct CheckpointManifest;

class Trainer {
 public:
  // Builds this rank's pipeline on `mesh` from `stages` (its LocalStages for options.schedule on
  // mesh.shape().pp ranks) and the optimizer from `make_optimizer`. Collective over the mesh.
  Trainer(const ParallelMesh& mesh, std::vector<LocalStage> stages, PipelineOptions pipeline,
          OptimizerFactory make_optimizer, TrainerOptions options);
  ~Trainer();
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;

  // One step on this replica's batch: input.num_microbatches must equal options.num_microbatches.
  // Gradients are summed over all copies of each stage and averaged over the dp replicas (so the
  // result equals one process training on the dp replicas' batches together with the losses
  // averaged over replicas). Throws std::runtime_error (same message on every rank) on failure.
  TrainStepResult step(const StepInput& input);

  // Writes a checkpoint of the whole job into root/step-NNNNNNNN and points root/latest at it
  // (atomically: an interrupted save leaves the previous checkpoint in place). Collective.
  void save(const std::string& root);
  // Loads root/latest (or `root` itself when it is a checkpoint): parameters, optimizer state,
  // step counter, RNG states, loss scaler and stage state (e.g. expert placements). The mesh's dp
  // and the schedule may differ from the saved ones; pp and the model may not. Collective; a
  // checkpoint that cannot be loaded is one std::runtime_error, the same on every rank.
  void load(const std::string& root);

  // Runs `change`, which may move values between the stages' parameters (e.g. an MoE layer's
  // MoeLayerImpl::apply_placement migrating experts), with `per_parameter`: an optimizer of the
  // same kind over the stages' own parameters, holding their current state, so the state moves
  // with the values; afterwards the state and the optimizer's copies are taken back from it.
  // Collective over the mesh (every rank runs its `change`); between steps. Adam, AdamW and SGD.
  void move_parameters(const std::function<void(torch::optim::Optimizer& per_parameter)>& change);

  // Steps taken (restored by load()).
  int64_t steps() const { return steps_; }
  Pipeline& pipeline() { return *pipeline_; }
  DistributedOptimizer& optimizer();
  const ParallelMesh& mesh() const { return mesh_; }
  const TrainerOptions& options() const { return options_; }
  std::optional<double> loss_scale() const;
  MemoryUsage memory() const;

 private:
  void ensure_ready();
  void finish_step(TrainStepResult& result);
  double global_squared_norm() const;
  std::string write_checkpoint_files(const std::string& directory);
  std::string manifest_json(const std::vector<std::string>& group_entries);
  void prune_checkpoints(const std::string& root, const std::string& newest) const;
  void check_compatible(const CheckpointManifest& manifest, const std::string& dir) const;
  void load_group(const ReductionGroup& group, const std::string& directory);

  const ParallelMesh& mesh_;
  std::vector<LocalStage> stages_;
  TrainerOptions options_;
  std::string schedule_name_;
  std::unique_ptr<Pipeline> pipeline_;
  std::shared_ptr<DataParallelGradients> gradients_;
  OptimizerFactory make_optimizer_;
  std::unique_ptr<DistributedOptimizer> optimizer_;
  std::optional<LossScaler> scaler_;
  GroupHandle world_;
  int64_t steps_ = 0;
  int64_t checkpoint_exchanges_ = 0;  // names each save/load's exchanges between ranks
};

}  // namespace dualpipe::runtime
