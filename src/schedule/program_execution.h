// Executes per-rank programs step by step under caller-defined waits (private to the library):
// the engine behind the validator's deadlock check and the communication pass's timing.
#pragma once

#include <functional>
#include <vector>

#include "dualpipe/schedule/dependencies.h"
#include "dualpipe/schedule/schedule.h"

namespace dualpipe::schedule::detail {

// What the action at a rank's program counter needs before it completes.
struct Wait {
  enum class Kind {
    kNone,        // completes at once
    kPassed,      // completes once rank `target.rank` has completed position `target.position`
    kRendezvous,  // completes together with `target`, once that rank stands at that position
  };
  Kind kind = Kind::kNone;
  ActionRef target;
};

// Fills `waits` (cleared by the caller) with what the action at (rank, position) needs; all of them
// must hold before it completes. At most one may be a rendezvous.
using WaitsOf = std::function<void(int rank, int position, std::vector<Wait>& waits)>;

// Runs every rank's program as far as the waits allow, in an order where each action completes
// after what it waits for. Calls `on_complete(rank, position)` for each completed action in that
// order. Returns each rank's program counter at the end: programs[r].size() when rank r finished,
// otherwise the position it is stuck at. O(actions + stalls x ranks).
std::vector<int> execute_programs(const Schedule& schedule, const WaitsOf& waits_of,
                                  const std::function<void(int rank, int position)>& on_complete);

}  // namespace dualpipe::schedule::detail
