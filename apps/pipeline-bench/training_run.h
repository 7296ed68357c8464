// pipeline-bench's training mode: a Trainer on pp x dp (gradient reduction, optional ZeRO-1,
// recomputation and clipping, AdamW), timed step by step, with its memory per rank and --check
// against one process training the whole model.
#pragma once

#include <string>

#include "device_flags.h"
#include "dualpipe/runtime/launch_environment.h"
#include "dualpipe/runtime/rank_agreement.h"
#include "pipeline_bench_flags.h"
#include "staged_outputs.h"

namespace dualpipe::apps {

// Runs the training mode over the ranks that met through `exchange`. Returns the fields rank 0
// adds to its JSON line (",\"dp\": ..."), the profile, when asked for, added to `outputs`.
std::string run_training(const PipelineBenchFlags& flags, const runtime::LaunchEnvironment& env,
                         const runtime::StoreExchange& exchange, const DevicePlacement& placement,
                         StagedOutputs& outputs);

}  // namespace dualpipe::apps
