// Simulator: runs a schedule's per-rank programs against a cost model and reports when every action
// ran, the step time, each rank's busy and bubble time, peak activations and parameter copies.
#pragma once

#include <vector>

#include "dualpipe/schedule/cost_model.h"
#include "dualpipe/schedule/schedule.h"

namespace dualpipe::schedule {

// What a timed schedule (simulated or measured) says about each rank. Times are in the schedule's
// time unit; vectors are indexed by rank.
struct ScheduleSummary {
  double step_time = 0.0;                      // first action's start to the last action's end
  std::vector<double> busy_per_rank;           // sum of the rank's compute-action durations
  std::vector<double> bubble_per_rank;         // step_time - busy: time the rank computes nothing
  std::vector<int> peak_activations_per_rank;  // see peak_activations()
  std::vector<int> parameter_copies_per_rank;  // see parameter_copies()
};

// A simulated run: the schedule with the time of every action, and its summary.
struct Simulation {
  TimedSchedule timed;
  ScheduleSummary summary;
};

// Runs `schedule` event by event: every rank executes its program in order, and an action starts
// when its rank is free and its inputs are there. Inputs are derived from the compute actions
// (dependencies.h): a forward needs the previous stage's forward of its chunk, a backward (B, I or
// the backward half of an FB) the next stage's backward (the last stage: its own forward) and its
// own forward, a W its I. Across ranks an input arrives costs.p2p.transfer_time() after it was
// sent: when the producer finished in a compute-only schedule, or when the producer's rank reached
// the SEND_ action in a schedule with communication; there a RECV_ lasts until its message has
// arrived and a SEND_ takes no time (sends never block). Same-rank inputs are free.
// Throws std::invalid_argument with a one-line message for a schedule that cannot run: malformed
// header, an action on a rank that does not hold its stage or outside the schedule's ranges, work
// done twice, or a deadlock (the message names the blocked ranks, positions and awaited work).
Simulation simulate(const Schedule& schedule, const CostModel& costs);

// Duration of every action of a schedule: `[rank][i]` belongs to programs[rank][i], in time units.
using ActionDurations = std::vector<std::vector<double>>;

// simulate() with the duration of every compute action given (e.g. measured in a trace) instead of
// priced by the per-stage costs; communication actions and messages are priced by `costs.p2p` as
// in simulate(). Throws std::invalid_argument as simulate() does, and when `durations` does not
// have one finite, non-negative entry per action.
Simulation simulate(const Schedule& schedule, const CostModel& costs,
                    const ActionDurations& durations);

// Busy, bubble and step time of any timed schedule (e.g. one measured by the runtime), plus the
// program-order metrics below.
ScheduleSummary summarize(const TimedSchedule& timed);

// Per rank, the largest number of activations held at once, counted in program order. Unit: the
// activations one stage keeps for one micro-batch. One is taken when a forward starts (an F or the
// forward half of an FB) and given back when that chunk's backward ends (a B, an I, or the backward
// half of an FB; the smaller inputs an I leaves for its W are not counted). An FB takes its
// forward's unit before it gives back its backward's, so the pair counts at the higher level. 1F1B
// peaks at P, DualPipe at P+1.
std::vector<int> peak_activations(const Schedule& schedule);

// Per rank, how many stages' parameters it holds (entries of stage_rank naming it). Unit: one
// stage's parameters. 1 for 1F1B and ZB1P, 2 for DualPipe and DualPipeV, V for interleaved 1F1B.
std::vector<int> parameter_copies(const Schedule& schedule);

}  // namespace dualpipe::schedule
