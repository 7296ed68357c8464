// Schedule as a Chrome trace: JSON that chrome://tracing and Perfetto open, one track per rank.
#pragma once

#include <string>

#include "dualpipe/schedule/schedule.h"

namespace dualpipe::render {

// Microseconds per unit of `time_unit`: "s" 1e6, "ms" 1e3, "us" 1, "ns" 1e-3; any other unit
// (the simulator's "units") 1e3, so that one unit shows as one millisecond.
double microseconds_per(const std::string& time_unit);

// Chrome-trace JSON {"traceEvents": [...], "displayTimeUnit": "ms"} of `timed`: process 0 named
// after the schedule, thread r named "rank r" (sorted by rank), and per action one event on its
// rank's thread named by its profiler annotation label (annotation.h, e.g. "dualpipe:F s1 m3 d0"):
// a complete event ("X") for compute actions and RECVs, an instant event ("i") for SENDs.
// Timestamps are relative to the earliest start. Each event's args repeat op, stage, micro-batch,
// direction (and the backward half of an FB), start and duration in the schedule's own unit.
std::string schedule_chrome_trace(const schedule::TimedSchedule& timed);

}  // namespace dualpipe::render
