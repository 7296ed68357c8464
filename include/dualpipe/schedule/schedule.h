// Schedule: the intermediate representation every generator, checker, simulator, renderer and the
// runtime share — ranks, stage placement, micro-batches and one ordered program per rank.
#pragma once

#include <string>
#include <vector>

#include "dualpipe/schedule/action.h"

namespace dualpipe::schedule {

// A pipeline schedule. `stage_rank[d][s]` is the rank that runs stage `s` for direction `d`
// (one direction for every schedule but DualPipe, which has two). `programs[r]` is rank r's
// ordered list of actions. Micro-batch counts are per direction.
struct Schedule {
  std::string name;                         // generator name, e.g. "dualpipe"
  int num_ranks = 0;                        // pipeline ranks (processes)
  int num_stages = 0;                       // model chunks a micro-batch passes through
  int num_microbatches = 0;                 // total over all directions
  std::vector<std::vector<int>> stage_rank; // [direction][stage] -> rank
  std::vector<std::vector<Action>> programs;// [rank] -> ordered actions

  int num_directions() const { return static_cast<int>(stage_rank.size()); }
  // Micro-batches entering in each direction (num_microbatches / num_directions).
  int microbatches_per_direction() const;
  // Rank that runs `chunk` (its stage in its direction).
  int rank_of(const Chunk& chunk) const { return stage_rank.at(chunk.direction).at(chunk.stage); }
  bool is_first_stage(const Chunk& chunk) const { return chunk.stage == 0; }
  bool is_last_stage(const Chunk& chunk) const { return chunk.stage == num_stages - 1; }
};

// Start and length of one action, in the units of whoever produced it (simulated cost units, or
// milliseconds for a measured run).
struct ActionTiming {
  double start = 0.0;
  double duration = 0.0;
  double end() const { return start + duration; }
};

// Per-rank timings aligned with a schedule's programs: `timing[r][i]` belongs to programs[r][i].
using ScheduleTiming = std::vector<std::vector<ActionTiming>>;

// A schedule together with when each of its actions ran (simulated or measured).
struct TimedSchedule {
  Schedule schedule;
  ScheduleTiming timing;
  std::string time_unit = "units";  // "units" for simulated costs, "ms" for measured runs
};

}  // namespace dualpipe::schedule
