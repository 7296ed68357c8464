// GPipe, 1F1B, ZB1P and interleaved 1F1B: single-direction schedules that end in a pipeline
// flush. All four are one pattern with different parameters: a rank runs `warmup` forwards, then
// alternates one forward with one backward, then runs the remaining backwards; zero bubble splits
// each backward into I and a W that is deferred by a few steps.
#include <algorithm>
#include <deque>
#include <functional>
#include <vector>

#include "dualpipe/schedule/generators.h"
#include "generator_limits.h"

namespace dualpipe::schedule {
namespace {

// One rank's pattern: `units` forwards and as many backwards over its stages.
struct FlushRankShape {
  int units = 0;   // forward (and backward) steps on this rank: micro-batches x stages per rank
  int warmup = 0;  // forwards before the first backward
  std::function<int(int)> forward_stage;   // stage of the i-th forward
  std::function<int(int)> backward_stage;  // stage of the j-th backward
  bool zero_bubble = false;                // backward = I + deferred W instead of B
  int weight_delay = 0;                    // zero bubble: backwards issued before the first W
};

std::vector<Action> flush_rank_program(const FlushRankShape& shape, int num_stages) {
  std::vector<int> next_forward(num_stages, 0);
  std::vector<int> next_backward(num_stages, 0);
  std::deque<Chunk> deferred_weights;
  std::vector<Action> program;
  program.reserve(static_cast<std::size_t>(shape.units) * (shape.zero_bubble ? 3 : 2));
  const auto forward = [&](int i) {
    const int stage = shape.forward_stage(i);
    program.push_back(Action::compute(Op::kF, {stage, next_forward[stage]++, 0}));
  };
  const auto weight = [&] {
    program.push_back(Action::compute(Op::kW, deferred_weights.front()));
    deferred_weights.pop_front();
  };
  for (int i = 0; i < shape.warmup; ++i) forward(i);
  for (int j = 0; j < shape.units; ++j) {
    if (shape.warmup + j < shape.units) forward(shape.warmup + j);
    const int stage = shape.backward_stage(j);
    const Chunk chunk{stage, next_backward[stage]++, 0};
    program.push_back(Action::compute(shape.zero_bubble ? Op::kI : Op::kB, chunk));
    if (!shape.zero_bubble) continue;
    deferred_weights.push_back(chunk);
    if (j >= shape.weight_delay) weight();
  }
  while (!deferred_weights.empty()) weight();
  return program;
}

// A single-direction schedule whose stage s runs on rank s mod P.
Schedule looped_schedule(const char* name, int num_ranks, int num_microbatches,
                         int stages_per_rank) {
  Schedule schedule;
  schedule.name = name;
  schedule.num_ranks = num_ranks;
  schedule.num_stages = num_ranks * stages_per_rank;
  schedule.num_microbatches = num_microbatches;
  schedule.stage_rank.assign(1, std::vector<int>(schedule.num_stages));
  for (int s = 0; s < schedule.num_stages; ++s) schedule.stage_rank[0][s] = s % num_ranks;
  schedule.programs.resize(num_ranks);
  return schedule;
}

// A schedule with one stage per rank whose rank r follows `shape_of_rank(r)`.
Schedule one_stage_schedule(const char* name, int num_ranks, int num_microbatches,
                            const std::function<FlushRankShape(int)>& shape_of_rank) {
  detail::require_sane_size(name, num_ranks, num_microbatches, 1);
  Schedule schedule = looped_schedule(name, num_ranks, num_microbatches, 1);
  for (int rank = 0; rank < num_ranks; ++rank) {
    schedule.programs[rank] = flush_rank_program(shape_of_rank(rank), schedule.num_stages);
  }
  return schedule;
}

FlushRankShape one_stage_shape(int rank, int num_microbatches, int warmup) {
  FlushRankShape shape;
  shape.units = num_microbatches;
  shape.warmup = std::min(warmup, num_microbatches);
  shape.forward_stage = [rank](int) { return rank; };
  shape.backward_stage = [rank](int) { return rank; };
  return shape;
}

}  // namespace

Schedule generate_gpipe(int num_ranks, int num_microbatches) {
  return one_stage_schedule("gpipe", num_ranks, num_microbatches, [&](int rank) {
    return one_stage_shape(rank, num_microbatches, num_microbatches);
  });
}

Schedule generate_1f1b(int num_ranks, int num_microbatches) {
  return one_stage_schedule("1f1b", num_ranks, num_microbatches, [&](int rank) {
    return one_stage_shape(rank, num_microbatches, num_ranks - 1 - rank);
  });
}

Schedule generate_zb1p(int num_ranks, int num_microbatches) {
  // ZB-H1: rank r keeps its first r weight steps back, to fill its cool-down bubble.
  return one_stage_schedule("zb1p", num_ranks, num_microbatches, [&](int rank) {
    FlushRankShape shape = one_stage_shape(rank, num_microbatches, num_ranks - 1 - rank);
    shape.zero_bubble = true;
    shape.weight_delay = rank;
    return shape;
  });
}

Schedule generate_interleaved_1f1b(int num_ranks, int num_microbatches, int virtual_stages) {
  const char* name = "interleaved-1f1b";
  detail::require_sane_size(name, num_ranks, num_microbatches, virtual_stages);
  detail::require(virtual_stages >= 2, name,
                  "needs at least 2 virtual stages per rank, got " +
                      std::to_string(virtual_stages) + " (use 1f1b for one)");
  detail::require(num_microbatches % num_ranks == 0, name,
                  "needs micro-batches to be a multiple of ranks (" + std::to_string(num_ranks) +
                      "), got " + std::to_string(num_microbatches));
  Schedule schedule = looped_schedule(name, num_ranks, num_microbatches, virtual_stages);
  // Depth first: each rank walks its stages in rounds of P micro-batches.
  const int round = num_ranks;
  const int v = virtual_stages;
  for (int rank = 0; rank < num_ranks; ++rank) {
    FlushRankShape shape;
    shape.units = v * num_microbatches;
    shape.warmup = std::min((v - 1) * round + 2 * (num_ranks - 1 - rank), shape.units);
    shape.forward_stage = [=](int i) { return ((i / round) % v) * num_ranks + rank; };
    shape.backward_stage = [=](int j) { return (v - 1 - (j / round) % v) * num_ranks + rank; };
    schedule.programs[rank] = flush_rank_program(shape, schedule.num_stages);
  }
  return schedule;
}

}  // namespace dualpipe::schedule
