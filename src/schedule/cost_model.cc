#include "dualpipe/schedule/cost_model.h"

#include <cmath>
#include <stdexcept>

namespace dualpipe::schedule {
namespace {

// FB_s / (F_s + B_s): how much of a serial forward + backward an overlapped pair takes.
double overlap_ratio(const StageCosts& costs) {
  const double serial = costs.forward + costs.backward;
  return serial > 0.0 ? costs.overlapped / serial : 1.0;
}

void require_duration(double value, const std::string& field) {
  if (!std::isfinite(value) || value < 0.0) {
    throw std::invalid_argument(field + ": expected a finite duration >= 0, got " +
                                std::to_string(value));
  }
}

void check_stage(const StageCosts& costs, const std::string& where) {
  require_duration(costs.forward, where + ".forward");
  require_duration(costs.backward, where + ".backward");
  require_duration(costs.weight, where + ".weight");
  require_duration(costs.overlapped, where + ".overlapped");
  if (costs.weight > costs.backward) {
    throw std::invalid_argument(
        where + ".weight: the weight part (" + std::to_string(costs.weight) +
        ") cannot exceed the full backward (" + std::to_string(costs.backward) + ")");
  }
}

}  // namespace

double P2PCosts::transfer_time() const {
  const double size_term =
      bandwidth_bytes_per_unit > 0.0 ? message_bytes / bandwidth_bytes_per_unit : 0.0;
  return latency + size_term;
}

const StageCosts& CostModel::stage(int stage) const {
  if (stages.empty()) return default_stage;
  if (stage < 0 || stage >= static_cast<int>(stages.size())) {
    throw std::invalid_argument("cost model: no costs for stage " + std::to_string(stage) +
                                " (the profile lists " + std::to_string(stages.size()) +
                                " stages)");
  }
  return stages[static_cast<std::size_t>(stage)];
}

double CostModel::slowdown(int rank) const {
  if (rank_slowdown.empty()) return 1.0;
  if (rank < 0 || rank >= static_cast<int>(rank_slowdown.size())) {
    throw std::invalid_argument("cost model: no slowdown for rank " + std::to_string(rank) +
                                " (the profile lists " + std::to_string(rank_slowdown.size()) +
                                " ranks)");
  }
  return rank_slowdown[static_cast<std::size_t>(rank)];
}

double CostModel::duration(const Action& action, int rank) const {
  double base = 0.0;
  switch (action.op) {
    case Op::kF: base = stage(action.chunk.stage).forward; break;
    case Op::kB: base = stage(action.chunk.stage).backward; break;
    case Op::kI: {
      const StageCosts& costs = stage(action.chunk.stage);
      base = costs.backward - costs.weight;
      break;
    }
    case Op::kW: base = stage(action.chunk.stage).weight; break;
    case Op::kFB: {
      const StageCosts& forward_stage = stage(action.chunk.stage);
      const StageCosts& backward_stage = stage(action.backward.stage);
      const double ratio = 0.5 * (overlap_ratio(forward_stage) + overlap_ratio(backward_stage));
      base = (forward_stage.forward + backward_stage.backward) * ratio;
      break;
    }
    default: return 0.0;  // communication
  }
  return base * slowdown(rank);
}

CostModel uniform_cost_model(double forward, double backward, double weight, double overlapped,
                             double p2p_latency) {
  CostModel costs;
  costs.default_stage = StageCosts{forward, backward, weight, overlapped};
  costs.p2p.latency = p2p_latency;
  return costs;
}

void check_cost_model(const CostModel& costs) {
  check_stage(costs.default_stage, "stage");
  for (std::size_t s = 0; s < costs.stages.size(); ++s) {
    check_stage(costs.stages[s], "stages[" + std::to_string(s) + "]");
  }
  require_duration(costs.p2p.latency, "p2p.latency");
  if (!std::isfinite(costs.p2p.bandwidth_bytes_per_unit) ||
      costs.p2p.bandwidth_bytes_per_unit < 0.0) {
    throw std::invalid_argument("p2p.bandwidth: expected a finite number >= 0 (0 = unlimited)");
  }
  if (!std::isfinite(costs.p2p.message_bytes) || costs.p2p.message_bytes < 0.0) {
    throw std::invalid_argument("p2p.message_bytes: expected a finite number >= 0");
  }
  for (std::size_t r = 0; r < costs.rank_slowdown.size(); ++r) {
    const double factor = costs.rank_slowdown[r];
    if (!std::isfinite(factor) || factor <= 0.0) {
      throw std::invalid_argument("rank_slowdown[" + std::to_string(r) +
                                  "]: expected a finite factor > 0, got " + std::to_string(factor));
    }
  }
}

}  // namespace dualpipe::schedule
