#include "prepared_schedule.h"

#include <algorithm>
#include <stdexcept>

#include "dualpipe/runtime/rank_agreement.h"
#include "dualpipe/schedule/annotation.h"
#include "dualpipe/schedule/communication.h"
#include "dualpipe/schedule/message_bundles.h"
#include "dualpipe/schedule/validator.h"

namespace dualpipe::runtime {

using schedule::Action;
using schedule::Chunk;
using schedule::Op;

namespace {

// "schedule NAME on R ranks, S stages, N micro-batches (program hash H)".
std::string describe_schedule(const schedule::Schedule& s) {
  std::string programs;
  for (const auto& program : s.programs) {
    for (const Action& action : program) programs += schedule::to_string(action) + ";";
  }
  return "schedule " + s.name + " on " + std::to_string(s.num_ranks) + " ranks, " +
         std::to_string(s.num_stages) + " stages, " + std::to_string(s.num_microbatches) +
         " micro-batches (program hash " + std::to_string(fingerprint_of(programs)) + ")";
}

}  // namespace

PreparedSchedule prepare_schedule(const schedule::Schedule& compute, int rank,
                                  const std::vector<LocalStage>& stages) {
  PreparedSchedule prepared;
  prepared.schedule =
      schedule::has_communication(compute) ? compute : schedule::with_communication(compute);
  const std::vector<schedule::Violation> violations =
      schedule::validate(prepared.schedule, schedule::P2PMode::kAsynchronous, 1);
  if (!violations.empty()) {
    throw std::invalid_argument("schedule " + compute.name +
                                " cannot run: " + schedule::to_string(violations.front()));
  }
  check_stages_match(prepared.schedule, rank, stages);
  const std::vector<Action>& program =
      prepared.schedule.programs.at(static_cast<std::size_t>(rank));
  for (const Action& action : program)
    prepared.labels.push_back(schedule::annotation_label(action));
  prepared.bundles = schedule::message_bundles(prepared.schedule, rank);
  prepared.has_pairs = std::any_of(program.begin(), program.end(),
                                   [](const Action& action) { return action.op == Op::kFB; });
  prepared.description = describe_schedule(prepared.schedule);
  prepared.gradients_final_after = gradients_final_after(prepared.schedule, rank, stages);
  return prepared;
}

std::vector<std::vector<int>> gradients_final_after(const schedule::Schedule& s, int rank,
                                                    const std::vector<LocalStage>& stages) {
  const std::vector<Action>& program = s.programs.at(static_cast<std::size_t>(rank));
  std::vector<std::vector<int>> result(program.size());
  for (std::size_t k = 0; k < stages.size(); ++k) {
    const auto is_stage = [&](const Chunk& c) {
      return c.direction == stages[k].direction && c.stage == stages[k].stage;
    };
    std::ptrdiff_t last = -1;
    for (std::size_t i = 0; i < program.size(); ++i) {
      const Action& a = program[i];
      const bool backward = a.op == Op::kB || a.op == Op::kI || a.op == Op::kW;
      if ((backward && is_stage(a.chunk)) || (a.op == Op::kFB && is_stage(a.backward)))
        last = static_cast<std::ptrdiff_t>(i);
    }
    if (last >= 0) result[static_cast<std::size_t>(last)].push_back(static_cast<int>(k));
  }
  return result;
}

void check_stages_match(const schedule::Schedule& s, int rank,
                        const std::vector<LocalStage>& stages) {
  for (int d = 0; d < s.num_directions(); ++d) {
    for (int stage = 0; stage < s.num_stages; ++stage) {
      const bool placed_here =
          s.stage_rank[static_cast<std::size_t>(d)][static_cast<std::size_t>(stage)] == rank;
      const bool given = std::any_of(stages.begin(), stages.end(), [&](const LocalStage& l) {
        return l.direction == d && l.stage == stage;
      });
      if (placed_here && !given) {
        throw std::invalid_argument(s.name + " places stage " + std::to_string(stage) +
                                    " of direction " + std::to_string(d) + " on rank " +
                                    std::to_string(rank) + ", but no module was given for it");
      }
    }
  }
  for (const LocalStage& l : stages) {
    if (l.direction < 0 || l.direction >= s.num_directions() || l.stage < 0 ||
        l.stage >= s.num_stages || s.rank_of(Chunk{l.stage, 0, l.direction}) != rank) {
      throw std::invalid_argument("a module was given for stage " + std::to_string(l.stage) +
                                  " of direction " + std::to_string(l.direction) + ", which " +
                                  s.name + " does not place on rank " + std::to_string(rank));
    }
  }
}

}  // namespace dualpipe::runtime
