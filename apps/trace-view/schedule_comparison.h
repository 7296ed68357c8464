// --compare-schedule: lines the schedule measured in the traces up against a planned schedule
// simulated with the durations measured in the same traces.
#pragma once

#include <string>

#include "dualpipe/schedule/schedule.h"

namespace dualpipe::apps {

// The comparison as a report and a drawing.
struct ScheduleComparison {
  std::string report;  // text: step time, per-rank busy/bubble, whether the orders match
  std::string svg;     // measured (top) and simulated (bottom) schedules on one time scale
};

// Simulates `planned` with a cost model whose F, B, W and FB durations are the means measured in
// `measured` (ms), and compares. `planned_name` names the schedule file in the report.
// Throws std::invalid_argument when the planned schedule cannot be simulated.
ScheduleComparison compare_schedules(const schedule::TimedSchedule& measured,
                                     const schedule::Schedule& planned,
                                     const std::string& planned_name);

}  // namespace dualpipe::apps
