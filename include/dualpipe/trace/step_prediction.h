// Measured against simulated: the step a run's traces measured beside the step the schedule
// simulator predicts from the same run's action durations, and the actions where the two part.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "dualpipe/trace/peer_matching.h"
#include "dualpipe/trace/time_attribution.h"
#include "dualpipe/trace/timeline.h"

namespace dualpipe::trace {

// One rank's finish time (ms after the step's first action started).
struct RankPrediction {
  int rank = 0;
  double measured_ms = 0.0;
  double simulated_ms = 0.0;            // with the measured GPU durations
  double simulated_with_host_ms = 0.0;  // with each action's preceding host idle time added
};

// An action that started later than simulated by more than the action before it on its rank did.
struct ActionDivergence {
  int rank = 0;
  std::string action;              // "F s1 m0 d0"
  double measured_start_ms = 0.0;  // after the step's first action started
  double simulated_start_ms = 0.0;
  double added_ms = 0.0;     // lateness added since the rank's previous compute action
  double host_gap_ms = 0.0;  // in the measured run, between that action and this one
  double wait_ms = 0.0;      // likewise, waiting for peers
};

// The comparison. Durations in ms.
struct StepPrediction {
  double p2p_ms = 0.0;  // mean measured transfer time of the matched point-to-point kernels
  int messages = 0;     // how many were measured (0: messages cost nothing)
  double measured_ms = 0.0;
  double simulated_ms = 0.0;
  double simulated_with_host_ms = 0.0;
  std::vector<RankPrediction> ranks;
  std::vector<ActionDivergence> largest;  // up to five, largest added lateness first
  std::string unmodelled;  // what the simulator leaves out, when it is more than 5% off
};

// Rebuilds the run's schedule from the toolkit's action annotations (extract_schedule), times each
// compute action by its measured GPU window, and simulates the compute order with messages
// costing the measured mean transfer (the GPU streams wait only for the data they consume). A
// second simulation adds to every action the time the rank's GPU idled for the host since its
// previous action ended (or since the step started): host gaps and launched-but-not-started time.
// nullopt when the timelines have no action annotations;
// `problem` is set instead when the rebuilt schedule cannot be simulated.
struct PredictionResult {
  std::optional<StepPrediction> prediction;
  std::string problem;
};
PredictionResult predict_step(const std::vector<RankTimeline>& timelines,
                              const std::vector<std::vector<CallSplit>>& splits,
                              const std::vector<RankAttribution>& attributions);

}  // namespace dualpipe::trace
