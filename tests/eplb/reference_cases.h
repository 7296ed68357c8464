// Test helper: reads tests/data/eplb/*.json, the outputs recorded from the reference implementation.
#pragma once

#include <string>
#include <vector>

#include "dualpipe/eplb/load_matrix.h"
#include "dualpipe/eplb/plan_parameters.h"

namespace dualpipe::eplb::testing {

// One recorded call of the reference's rebalance_experts.
struct ReferenceCase {
  std::string name;
  PlanParameters parameters;
  LoadMatrix loads;
  std::vector<std::vector<int>> phy2log;
  std::vector<std::vector<std::vector<int>>> log2phy;
  std::vector<std::vector<int>> logcnt;
};

// One recorded torch.sort(descending=True) call.
struct SortCase {
  std::vector<float> values;
  std::vector<int> order;
};

// The reference README's example: 2 layers x 12 experts (planned there with 16 replicas, 4 groups,
// 2 nodes, 8 GPUs).
LoadMatrix readme_loads();

// Path of a file under tests/data/eplb/.
std::string eplb_test_data(const std::string& file_name);

std::vector<ReferenceCase> load_reference_cases();
std::vector<SortCase> load_sort_cases();

}  // namespace dualpipe::eplb::testing
