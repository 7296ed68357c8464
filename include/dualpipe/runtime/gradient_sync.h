// GradientSync: what a pipeline tells the code that reduces gradients across ranks during a step:
// which local stage's gradients have become final, and when the step ends.
#pragma once

#include "dualpipe/schedule/schedule.h"

namespace dualpipe::runtime {

// Receives a training step's gradient events from a Pipeline (see DataParallelGradients).
class GradientSync {
 public:
  virtual ~GradientSync() = default;
  // Before the first step that runs `schedule` (the pipeline's ranks call it in the same step).
  virtual void prepare(const schedule::Schedule& schedule) = 0;
  // Local stage `local_stage` (index into the pipeline's stages) has its final gradients of the
  // step: nothing later in the step adds to them. Called on every rank, also after this rank
  // failed, so no peer waits for it.
  virtual void stage_ready(int local_stage) = 0;
  // The step ended (every stage was ready). `failed`: its gradients are to be dropped. Throws a
  // std::runtime_error when a reduction failed.
  virtual void finish(bool failed) = 0;
};

}  // namespace dualpipe::runtime
