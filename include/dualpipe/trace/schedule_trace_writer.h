// Schedule as a trace: writes a timed schedule the way the profiler records the runtime, so that
// simulated schedules can be read, drawn and compared by the same code as measured ones.
#pragma once

#include <string>

#include "dualpipe/schedule/schedule.h"

namespace dualpipe::trace {

// Rank `rank` of `timed` as a Kineto-style Chrome trace (distributedInfo.rank = rank): every
// action is a user annotation named by schedule::annotation_label (in program order, each in its
// own CPU slot) around one runtime launch of one GPU kernel that runs for the action's timing
// (one time unit = one millisecond; compute on stream 7, communication on stream 13 as NCCL
// SendRecv kernels). Reading the traces of all ranks back and extracting the schedule gives the
// same programs and timings. Throws std::invalid_argument for a rank without matching timings.
std::string schedule_rank_trace_json(const schedule::TimedSchedule& timed, int rank);

}  // namespace dualpipe::trace
