// LoadRecorder: tokens routed to each logical expert of each MoE layer, step by step — the load
// time series [steps, layers, experts] that eplb-plan plans from.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <vector>

#include "dualpipe/eplb/load_matrix.h"
#include "dualpipe/moe/comm_group.h"

namespace dualpipe::moe {

class LoadRecorder {
 public:
  // Counts for `num_layers` layers of `num_experts` experts, kept on `device` until a step ends
  // (no device synchronisation per micro-batch).
  LoadRecorder(int num_layers, int64_t num_experts, torch::Device device = torch::kCPU);

  // Adds one micro-batch's token-to-expert assignments of `layer`: int64 [num_experts].
  void add(int layer, const torch::Tensor& tokens_per_expert);

  // Closes the step: sums its counts over `group` (null: no sum), so each rank holds the counts of
  // every token of the group, and appends them. Collective over `group`.
  void end_step(const CommGroup& group = {});

  // Recorded steps: [steps][layers][experts] tokens.
  const std::vector<std::vector<std::vector<int64_t>>>& steps() const { return steps_; }

  // The recorded steps as the planner's load series (eplb::format_json_loads writes it as the
  // JSON file eplb-plan reads).
  eplb::LoadSeries series() const;

 private:
  int num_layers_;
  int64_t num_experts_;
  torch::Device device_;
  torch::Tensor current_;  // [layers, experts] int64 of the open step
  std::vector<std::vector<std::vector<int64_t>>> steps_;
};

}  // namespace dualpipe::moe
