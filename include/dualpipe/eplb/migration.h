// Migration-aware re-planning: improve on a previous placement while moving few replicas.
#pragma once

#include <limits>
#include <vector>

#include "dualpipe/eplb/plan_problem.h"
#include "dualpipe/eplb/policy.h"
#include "dualpipe/eplb/slot_table.h"

namespace dualpipe::eplb {

// Limits on re-planning. A moved replica is a slot whose expert changes (its weights must be
// loaded).
struct MigrationOptions {
  // Most replicas moved over all layers together.
  int max_moves = std::numeric_limits<int>::max();
  // A layer changes only if its largest GPU load drops by at least this fraction (0.02 = 2%).
  double min_gain = 0.0;
};

// Throws std::invalid_argument naming the flag unless max_moves >= 0 and min_gain is a number in
// [0, 1): "--max-moves must be at least 0 (got -1)", "--min-gain must be in [0, 1) (got nan)".
void check_migration_options(const MigrationOptions& options);

// A re-plan and what it costs.
struct Replan {
  SlotTable placement;  // each expert's copies numbered in ascending slot order
  int replicas_moved = 0;
};

// Plans the problem's loads starting from `previous` (same layers, experts and replicas): each
// layer may keep its slots, take steps of local search from them (swaps and copy moves, counted
// slot by slot), or switch to the fresh `policy` plan with its GPUs and slots matched to the
// previous ones so that as many copies as possible stay put. Within `options.max_moves`, the
// changes that lower the layers' largest GPU loads most per moved replica are taken first; a layer
// never gets worse. Throws std::invalid_argument as check_migration_options does, when `previous`
// does not fit the problem, or as check_balanced_feasible does for the balanced policy.
Replan replan(const PlanProblem& problem, Policy policy, const SlotTable& previous,
              const MigrationOptions& options);

// Reorders a fresh layer plan's GPUs (whole nodes first when groups stay on nodes, then GPUs within
// them) and each GPU's slots so that it shares as many slots as it can with `previous`; the GPU
// loads are unchanged up to GPU order. Both are phy2log rows of the same length.
std::vector<int> align_to_previous(const std::vector<int>& fresh, const std::vector<int>& previous,
                                   const PlanParameters& parameters);

}  // namespace dualpipe::eplb
