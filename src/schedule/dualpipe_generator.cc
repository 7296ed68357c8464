// DualPipe and DualPipeV: both run, on every rank, the same eight-phase program; they differ only
// in which chunks a rank's two "slots" hold and in the phase lengths.
#include <array>
#include <deque>
#include <vector>

#include "dualpipe/schedule/generators.h"
#include "generator_limits.h"

namespace dualpipe::schedule {
namespace {

// The phase lengths of one rank, in the reference's terms.
struct DualRankShape {
  int half_ranks = 0;      // ranks between an entry rank and the middle (P/2; DualPipeV: P)
  int half_rank = 0;       // this rank's distance from its entry rank (DualPipeV: the rank)
  int chunks = 0;          // micro-batches through each slot (N/2; DualPipeV: N)
  bool is_middle = false;  // the ranks that do not overlap their first steady-state pair
};

// Appends one rank's steps. A rank owns two slots; slot 0 is the chunk its warm-up forwards
// feed. Micro-batches run through each slot in order, and the weight parts of zero-bubble
// backwards (I) wait in a FIFO that W steps drain.
class DualRankProgram {
 public:
  DualRankProgram(std::array<Chunk, 2> slots, int chunks) : slots_(slots) {
    actions_.reserve(static_cast<std::size_t>(6) * chunks);  // F, B and W of each slot at most
  }

  void forward(int slot) { actions_.push_back(Action::compute(Op::kF, next_forward(slot))); }

  // A full backward (B), or with `zero_bubble` an input backward (I) whose W is deferred.
  void backward(int slot, bool zero_bubble) {
    const Chunk chunk = next_backward(slot);
    actions_.push_back(Action::compute(zero_bubble ? Op::kI : Op::kB, chunk));
    if (zero_bubble) deferred_weights_.push_back(chunk);
  }

  // The weight step of the oldest deferred input backward.
  void weight() {
    actions_.push_back(Action::compute(Op::kW, deferred_weights_.front()));
    deferred_weights_.pop_front();
  }

  // Forward of `forward_slot` overlapped with a full backward of `backward_slot`.
  void overlapped(int forward_slot, int backward_slot) {
    const Chunk forward_chunk = next_forward(forward_slot);
    actions_.push_back(Action::overlapped(forward_chunk, next_backward(backward_slot)));
  }

  std::vector<Action> take() { return std::move(actions_); }

 private:
  Chunk next_forward(int slot) { return with_microbatch(slot, next_forward_[slot]++); }
  Chunk next_backward(int slot) { return with_microbatch(slot, next_backward_[slot]++); }
  Chunk with_microbatch(int slot, int microbatch) const {
    Chunk chunk = slots_[slot];
    chunk.microbatch = microbatch;
    return chunk;
  }

  std::array<Chunk, 2> slots_;
  std::array<int, 2> next_forward_{};
  std::array<int, 2> next_backward_{};
  std::deque<Chunk> deferred_weights_;
  std::vector<Action> actions_;
};

// The eight phases of one rank (`lead` = steps of the zero-bubble phases 3, 5 and 7).
std::vector<Action> dual_rank_program(const DualRankShape& shape, std::array<Chunk, 2> slots) {
  DualRankProgram program(slots, shape.chunks);
  const int h = shape.half_rank;
  const int lead = shape.half_ranks - h - 1;

  // 1: warm-up forwards of slot 0.
  for (int i = 0; i < 2 * lead; ++i) program.forward(0);
  // 2: forwards alternating between the slots.
  for (int i = 0; i <= h; ++i) {
    program.forward(0);
    program.forward(1);
  }
  // 3: input backward, weight, forward of slot 1.
  for (int i = 0; i < lead; ++i) {
    program.backward(1, true);
    program.weight();
    program.forward(1);
  }
  // 4: steady state of overlapped pairs, both ways.
  const int steady = shape.chunks - 2 * shape.half_ranks + h + 1;
  for (int i = 0; i < steady; ++i) {
    if (i == 0 && shape.is_middle) {
      program.forward(0);
      program.backward(1, false);
    } else {
      program.overlapped(0, 1);
    }
    program.overlapped(1, 0);
  }
  // 5: drain: backward of slot 1, then an overlapped pair.
  for (int i = 0; i < lead; ++i) {
    program.backward(1, false);
    program.overlapped(1, 0);
  }
  // 6: backwards of both slots; zero bubble switches on half-way.
  const int pairs = h + 1;
  for (int i = 0; i < pairs; ++i) {
    const bool second_half_started = i > pairs / 2 || (i == pairs / 2 && h % 2 == 1);
    program.backward(1, second_half_started);
    program.backward(0, i >= pairs / 2);
  }
  // 7: weight, input backward of slot 0.
  for (int i = 0; i < lead; ++i) {
    program.weight();
    program.backward(0, true);
  }
  // 8: the remaining weights.
  for (int i = 0; i < pairs; ++i) program.weight();
  return program.take();
}

}  // namespace

Schedule generate_dualpipe(int num_ranks, int num_microbatches) {
  const char* name = "dualpipe";
  detail::require_sane_size(name, num_ranks, num_microbatches, 2);
  detail::require(num_ranks % 2 == 0, name,
                  "needs an even number of ranks, got " + std::to_string(num_ranks));
  detail::require(num_microbatches % 2 == 0 && num_microbatches >= 2 * num_ranks, name,
                  "needs an even number of micro-batches >= 2 x ranks (" +
                      std::to_string(2 * num_ranks) + "), got " + std::to_string(num_microbatches));
  Schedule schedule;
  schedule.name = name;
  schedule.num_ranks = num_ranks;
  schedule.num_stages = num_ranks;
  schedule.num_microbatches = num_microbatches;
  schedule.stage_rank.assign(2, std::vector<int>(num_ranks));
  for (int s = 0; s < num_ranks; ++s) {
    schedule.stage_rank[0][s] = s;
    schedule.stage_rank[1][s] = num_ranks - 1 - s;
  }
  const int half = num_ranks / 2;
  for (int rank = 0; rank < num_ranks; ++rank) {
    const bool second_half = rank >= half;
    const int half_rank = second_half ? num_ranks - 1 - rank : rank;
    const DualRankShape shape{half, half_rank, num_microbatches / 2, half_rank == half - 1};
    // Slot 0 is the direction that enters on this rank's side of the pipeline.
    const Chunk own{rank, 0, 0};
    const Chunk other{num_ranks - 1 - rank, 0, 1};
    schedule.programs.push_back(second_half ? dual_rank_program(shape, {other, own})
                                            : dual_rank_program(shape, {own, other}));
  }
  return schedule;
}

Schedule generate_dualpipev(int num_ranks, int num_microbatches) {
  const char* name = "dualpipev";
  detail::require_sane_size(name, num_ranks, num_microbatches, 2);
  detail::require(num_microbatches >= 2 * num_ranks, name,
                  "needs micro-batches >= 2 x ranks (" + std::to_string(2 * num_ranks) + "), got " +
                      std::to_string(num_microbatches));
  const int num_stages = 2 * num_ranks;
  Schedule schedule;
  schedule.name = name;
  schedule.num_ranks = num_ranks;
  schedule.num_stages = num_stages;
  schedule.num_microbatches = num_microbatches;
  schedule.stage_rank.assign(1, std::vector<int>(num_stages));
  for (int s = 0; s < num_stages; ++s) {
    schedule.stage_rank[0][s] = s < num_ranks ? s : num_stages - 1 - s;
  }
  for (int rank = 0; rank < num_ranks; ++rank) {
    const DualRankShape shape{num_ranks, rank, num_microbatches, rank == num_ranks - 1};
    const Chunk down{rank, 0, 0};
    const Chunk up{num_stages - 1 - rank, 0, 0};
    schedule.programs.push_back(dual_rank_program(shape, {down, up}));
  }
  return schedule;
}

}  // namespace dualpipe::schedule
