// Cost model: how long each compute action and each point-to-point message takes, for the
// simulator.
#pragma once

#include <string>
#include <vector>

#include "dualpipe/schedule/action.h"

namespace dualpipe::schedule {

// Durations of one stage's compute actions, in time units (whatever the profile uses, e.g. ms).
// An I (input-only backward) takes `backward - weight`.
struct StageCosts {
  double forward = 1.0;     // F
  double backward = 2.0;    // B: the full backward (input and weight gradients)
  double weight = 1.0;      // W: the deferred weight-gradient part of a B
  double overlapped = 3.0;  // FB: this stage's forward and backward run as one overlapped pair;
                            // below forward + backward when overlap hides work
};

// Cost of one point-to-point message (activation or gradient): latency + message_bytes / bandwidth.
struct P2PCosts {
  double latency = 0.0;                   // time units per message
  double bandwidth_bytes_per_unit = 0.0;  // bytes per time unit; 0 means unlimited (no size term)
  double message_bytes = 0.0;             // bytes of one message

  // Time units from a send until the data is at the receiver.
  double transfer_time() const;
};

// Everything the simulator needs to price a schedule.
struct CostModel {
  StageCosts default_stage;           // costs of every stage without an entry in `stages`
  std::vector<StageCosts> stages;     // optional [stage] costs; empty = default_stage everywhere
  P2PCosts p2p;                       // between stages on different ranks; same-rank is free
  std::vector<double> rank_slowdown;  // optional [rank] factor on compute time (2 = twice as slow)
  std::string time_unit = "units";    // name of the time unit, e.g. "units" or "ms"

  // Costs of stage `stage` (the default when `stages` is empty).
  const StageCosts& stage(int stage) const;
  // Compute-time factor of `rank` (1 when `rank_slowdown` is empty).
  double slowdown(int rank) const;
  // Duration of compute action `action` when it runs on `rank`, in time units. For an FB whose
  // halves are stages a (forward) and b (backward): (F_a + B_b) times the mean of the two stages'
  // overlap ratios FB_s / (F_s + B_s), which is exactly FB_a when a and b cost the same.
  // Communication actions take 0 here (their time is the message's transfer time).
  double duration(const Action& action, int rank) const;
};

// The same costs for every stage, no slowdown, and messages that take `p2p_latency` each.
CostModel uniform_cost_model(double forward, double backward, double weight, double overlapped,
                             double p2p_latency = 0.0);

// Throws std::invalid_argument naming the first bad field (a negative or non-finite duration, a
// weight part larger than its backward, a slowdown that is not positive, ...).
void check_cost_model(const CostModel& costs);

}  // namespace dualpipe::schedule
