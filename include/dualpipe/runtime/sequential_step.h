// Sequential step: what a pipeline step computes, done on one process without a pipeline, to check
// the pipeline against.
#pragma once

#include <memory>
#include <vector>

#include "dualpipe/runtime/pipeline.h"

namespace dualpipe::runtime {

// Runs micro-batch 0, 1, ..., N-1 of `input` through `stages` (the whole model, in order): forward,
// criterion, backward (when gradient mode is on), accumulating gradients into the stages'
// parameters. Returns every micro-batch's loss (and outputs when input.return_outputs).
StepResult sequential_step(const std::vector<std::shared_ptr<PipelineStage>>& stages,
                           const StepInput& input, int64_t batch_dim);

}  // namespace dualpipe::runtime
