// Replay: how a planning policy would have fared over a recorded load time series.
#pragma once

#include <optional>
#include <vector>

#include "dualpipe/eplb/aggregation.h"
#include "dualpipe/eplb/load_matrix.h"
#include "dualpipe/eplb/migration.h"
#include "dualpipe/eplb/plan_parameters.h"
#include "dualpipe/eplb/policy.h"

namespace dualpipe::eplb {

// How to replay. Every `interval` steps a plan is made from the steps so far, combined by
// `aggregation` (kSum and kMean over the last interval, kWindow over its window, kEma over all steps),
// and scored on the next `interval` steps. With `migration`, each re-plan starts from the previous
// plan (replan); without, plans are made afresh.
struct ReplayOptions {
  int interval = 1;
  Aggregation aggregation;
  Policy policy = Policy::kBalanced;
  std::optional<MigrationOptions> migration;
};

// One scored window.
struct ReplayWindow {
  int first_step = 0;  // the scored steps are [first_step, first_step + steps)
  int steps = 0;
  // Mean over layers of mean / max GPU load on the scored steps: under the plan, and under the plan
  // that was in place before it (the trivial placement before the first plan).
  double balancedness = 0.0;
  double balancedness_before = 0.0;
  int replicas_moved = 0;  // from the plan before
};

// Replays `series`; returns one window per re-plan (none if the series has at most `interval` steps).
// Throws std::invalid_argument on invalid loads, parameters or interval (< 1).
std::vector<ReplayWindow> replay(const LoadSeries& series, const PlanParameters& parameters,
                                 const ReplayOptions& options);

}  // namespace dualpipe::eplb
