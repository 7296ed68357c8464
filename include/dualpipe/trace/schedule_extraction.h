// Schedule extraction: the pipeline program each rank really ran, rebuilt from the toolkit's
// profiler annotations, with measured start and duration of every action.
#pragma once

#include <optional>
#include <vector>

#include "dualpipe/schedule/schedule.h"
#include "dualpipe/trace/timeline.h"

namespace dualpipe::trace {

// Rebuilds the schedule from the annotations named by schedule::annotation_label. Each rank's
// program lists its actions in the order the CPU issued them; an action's timing is the GPU
// window of the kernels it launched (its CPU window when it launched none), in milliseconds since
// `origin`. Stage placement, stage and micro-batch counts are inferred from the actions; the
// schedule is named "measured". nullopt when no rank has such annotations.
std::optional<schedule::TimedSchedule> extract_schedule(const std::vector<RankTimeline>& timelines,
                                                        TimeNs origin);

}  // namespace dualpipe::trace
