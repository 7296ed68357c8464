// PreparedSchedule: a schedule made ready to run on one rank (communication added, validated,
// matched against the rank's stage modules, labelled for the profiler).
#pragma once

#include <string>
#include <vector>

#include "dualpipe/runtime/pipeline.h"
#include "dualpipe/schedule/schedule.h"

namespace dualpipe::runtime {

// What a rank needs to run a schedule, computed once per micro-batch count.
struct PreparedSchedule {
  schedule::Schedule schedule;      // with communication
  std::vector<std::string> labels;  // annotation_label of each action of this rank's program
  std::vector<int> bundles;         // schedule::message_bundles of this rank's program
  std::string description;          // what every rank must agree on
  bool has_pairs = false;           // this rank's program has FB actions
  // Per action of this rank's program: the local stages (indices into the pipeline's stages)
  // whose gradients of the step are final once it ran (after their last B, W or FB backward).
  std::vector<std::vector<int>> gradients_final_after;
};

// Adds communication to `compute` when it has none, validates it for asynchronous messages and
// checks that `stages` are exactly the slots it places on `rank`. Throws std::invalid_argument
// naming the first problem.
PreparedSchedule prepare_schedule(const schedule::Schedule& compute, int rank,
                                  const std::vector<LocalStage>& stages);

// Per action of `rank`'s program in `s`: the local stages whose last gradient-producing action it
// is (see PreparedSchedule::gradients_final_after).
std::vector<std::vector<int>> gradients_final_after(const schedule::Schedule& s, int rank,
                                                    const std::vector<LocalStage>& stages);

// Throws std::invalid_argument unless `stages` hold exactly the (direction, stage) slots that
// `s` places on `rank`.
void check_stages_match(const schedule::Schedule& s, int rank,
                        const std::vector<LocalStage>& stages);

}  // namespace dualpipe::runtime
