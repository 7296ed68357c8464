// DataParallelGradients: sums a pipeline's gradients over every rank that holds a copy of the same
// stage (DualPipe's two copies and the data-parallel replicas; for MoE experts, the replicas that
// hold the same experts), in buckets, asynchronously, starting per stage as soon as that stage's
// last gradient of the step exists.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "dualpipe/runtime/gradient_buckets.h"
#include "dualpipe/runtime/gradient_sync.h"
#include "dualpipe/runtime/mesh_layout.h"
#include "dualpipe/runtime/parallel_mesh.h"
#include "dualpipe/runtime/pipeline.h"

namespace dualpipe::runtime {

// The parameters of one role of one local stage, reduced together over the ranks holding copies of
// them, and (after finish()) their reduced gradients.
struct ReductionGroup {
  int local_stage = 0;  // index into the pipeline's stages
  int stage = 0;        // the schedule's stage
  ParameterRole role = ParameterRole::kDense;
  std::vector<StageParameter> params;
  std::vector<int> ranks;  // the global ranks holding copies, ascending
  GroupHandle comm;        // over `ranks`; null when this rank holds the only copy
  int member = 0;          // this rank's index in `ranks`
  std::vector<BucketLayout> buckets;
  // Per bucket, after finish(): the reduced gradient buffer (padded), or only this member's slice
  // of it when sharded.
  std::vector<torch::Tensor> reduced;

  int members() const { return static_cast<int>(ranks.size()); }
};

// How gradients are reduced.
struct GradientSyncOptions {
  // Reduce-scatter: each rank ends with its slice of every bucket only (for a sharded optimizer,
  // ZeRO-1); else all-reduce, and every parameter's .grad holds the reduced gradient.
  bool sharded = false;
  int64_t bucket_bytes = int64_t{25} << 20;
};

// Makes a communicator over global ranks (ParallelMesh::make_group or an equivalent); collective.
using GroupFactory =
    std::function<GroupHandle(const std::string& name, const std::vector<int>& ranks)>;

class DataParallelGradients final : public GradientSync {
 public:
  // `stages`: this rank's stages; `layout`: the mesh (a pipeline alone is pp ranks x dp 1);
  // `rank`: this rank's global rank in it; `make_group` makes the reduction groups.
  DataParallelGradients(std::vector<LocalStage> stages, MeshLayout layout, int rank,
                        GroupFactory make_group, GradientSyncOptions options = {});
  ~DataParallelGradients() override;

  // Multiplies every reduced gradient from the next step on (1 / dp by default; a loss scaler
  // divides by its scale too).
  void set_scale(double scale) { scale_ = scale; }
  double scale() const { return scale_; }

  void prepare(const schedule::Schedule& schedule) override;
  void stage_ready(int local_stage) override;
  void finish(bool failed) override;

  const GradientSyncOptions& options() const { return options_; }
  // This rank's reduction groups (made by the first prepare()).
  std::vector<ReductionGroup>& groups() { return groups_; }
  const std::vector<ReductionGroup>& groups() const { return groups_; }

  // Re-reads counted_in_norm from the stages (after their expert placement changed).
  void refresh_norm_flags();

  // The sum of squares of the reduced gradients this rank accounts for: its slice of every bucket,
  // counting only parameters with counted_in_norm. Summed over all ranks it is the squared norm of
  // the whole model's gradient, each parameter counted once. After finish().
  double local_squared_norm() const;

 private:
  void make_groups(const schedule::Schedule& schedule);
  void start(ReductionGroup& group);

  std::vector<LocalStage> stages_;
  MeshLayout layout_;
  int rank_;
  GroupFactory make_group_;
  GradientSyncOptions options_;
  double scale_;
  std::vector<ReductionGroup> groups_;
  bool prepared_ = false;
  struct Pending;
  std::vector<std::unique_ptr<Pending>> pending_;  // reductions in flight
};

}  // namespace dualpipe::runtime
