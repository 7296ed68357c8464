// Reports of simulated schedules: one schedule's per-rank summary (text or JSON) and the table that
// compares several schedules on the same costs.
#pragma once

#include <string>
#include <vector>

#include "dualpipe/schedule/cost_model.h"
#include "dualpipe/schedule/simulator.h"

namespace dualpipe::apps {

// One simulated schedule and how it was asked for.
struct SimulatedSchedule {
  schedule::Simulation simulation;
  int virtual_stages = 1;  // stages per rank of interleaved 1F1B (1 for the others)
};

// Header lines (schedule, sizes, step time) and one line per rank: busy, bubble, peak
// activations, parameter copies.
std::string summary_text(const SimulatedSchedule& run);

// {"schedule", "ranks", "stages", "microbatches", "time_unit", "step_time", "bubble_per_rank",
//  "busy_per_rank", "peak_activations_per_rank", "parameter_copies_per_rank"}.
std::string summary_json(const SimulatedSchedule& run);

// A Markdown table, one row per run: sizes, step time, largest and mean bubble per rank, the
// published bubble formula and its value for `costs.default_stage`, the largest peak activation
// count and parameter copies of any rank.
std::string comparison_table(const std::vector<SimulatedSchedule>& runs,
                             const schedule::CostModel& costs);

// The same as a JSON array of summary_json objects, each with "published_bubble" (null when the
// schedule has no published formula).
std::string comparison_json(const std::vector<SimulatedSchedule>& runs,
                            const schedule::CostModel& costs);

}  // namespace dualpipe::apps
