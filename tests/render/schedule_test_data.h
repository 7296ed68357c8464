// Test support: a small hand-timed schedule with every kind of action, shared by the renderer
// tests.
#pragma once

#include "dualpipe/schedule/schedule.h"

namespace dualpipe::render::testing {

// Two ranks, two stages, two directions (DualPipe placement), one micro-batch per direction,
// 0..8 time units. Rank 0: F s0 m0 d0 [0,1], FB{F s1 m0 d1 | B s0 m0 d0} [2,5], W s0 m0 d0 [5,6].
// Rank 1: F s0 m0 d1 [0,1], F s1 m0 d0 [1,2], I s1 m0 d0 [2,4], SEND_B s1 m0 d0 at 4,
// B s0 m0 d1 [6,8]. Not a valid schedule: only what renderers see matters here.
inline schedule::TimedSchedule small_timed_schedule() {
  using schedule::Action;
  using schedule::Chunk;
  using schedule::Op;
  schedule::TimedSchedule timed;
  schedule::Schedule& s = timed.schedule;
  s.name = "demo";
  s.num_ranks = 2;
  s.num_stages = 2;
  s.num_microbatches = 2;
  s.stage_rank = {{0, 1}, {1, 0}};
  s.programs = {
      {Action::compute(Op::kF, Chunk{0, 0, 0}), Action::overlapped(Chunk{1, 0, 1}, Chunk{0, 0, 0}),
       Action::compute(Op::kW, Chunk{0, 0, 0})},
      {Action::compute(Op::kF, Chunk{0, 0, 1}), Action::compute(Op::kF, Chunk{1, 0, 0}),
       Action::compute(Op::kI, Chunk{1, 0, 0}),
       Action::communication(Op::kSendB, Chunk{1, 0, 0}, 0),
       Action::compute(Op::kB, Chunk{0, 0, 1})}};
  timed.timing = {{{0, 1}, {2, 3}, {5, 1}}, {{0, 1}, {1, 1}, {2, 2}, {4, 0}, {6, 2}}};
  return timed;
}

}  // namespace dualpipe::render::testing
