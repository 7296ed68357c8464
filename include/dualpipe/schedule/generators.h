// Schedule generators: build the compute-only per-rank programs of the named pipeline schedules.
#pragma once

#include <string>
#include <vector>

#include "dualpipe/schedule/schedule.h"

namespace dualpipe::schedule {

// Names generate_schedule accepts, in display order:
// "dualpipe", "dualpipev", "1f1b", "zb1p", "interleaved-1f1b", "gpipe".
std::vector<std::string> schedule_names();

// Builds the named schedule for `num_ranks` pipeline ranks and `num_microbatches` micro-batches in
// total (DualPipe splits them over its two directions). `virtual_stages` (stages per rank) is used
// by "interleaved-1f1b" only. Programs hold compute actions only (F, B, I, W, FB); add
// communication with with_communication(). Throws std::invalid_argument with a one-line message
// for an unknown name or an unsupported combination (odd ranks for DualPipe, too few
// micro-batches, ...).
Schedule generate_schedule(const std::string& name, int num_ranks, int num_microbatches,
                           int virtual_stages = 2);

// DualPipe: even `num_ranks` >= 2, even `num_microbatches` >= 2 x num_ranks, N/2 per direction.
// Stages 0..P-1 per direction; direction 0 runs stage s on rank s, direction 1 on rank P-1-s.
// Rank by rank the same order of F, B, I, W and FB steps as deepseek-ai/DualPipe's step().
Schedule generate_dualpipe(int num_ranks, int num_microbatches);

// DualPipeV: `num_ranks` >= 1, `num_microbatches` >= 2 x num_ranks, one direction, 2P stages;
// rank r holds stages r and 2P-1-r. Same step order as deepseek-ai/DualPipe's DualPipeV.step().
Schedule generate_dualpipev(int num_ranks, int num_microbatches);

// 1F1B (PipeDream-flush): P stages, stage s on rank s; warm-up forwards, one forward one full
// backward in steady state, cool-down backwards. `num_microbatches` >= 1.
Schedule generate_1f1b(int num_ranks, int num_microbatches);

// ZB1P, the zero-bubble "ZB-H1" schedule: 1F1B whose backward is split into I (input gradient)
// and a deferred W (weight gradient) that fills the cool-down bubble. `num_microbatches` >= 1.
Schedule generate_zb1p(int num_ranks, int num_microbatches);

// Interleaved 1F1B (Megatron-LM): `virtual_stages` V >= 1 stages per rank, P*V stages, stage s
// on rank s mod P; `num_microbatches` must be a multiple of num_ranks.
Schedule generate_interleaved_1f1b(int num_ranks, int num_microbatches, int virtual_stages);

// GPipe: all forwards, then all full backwards (in forward order). `num_microbatches` >= 1.
Schedule generate_gpipe(int num_ranks, int num_microbatches);

}  // namespace dualpipe::schedule
