#include "dualpipe/eplb/replication.h"

#include <queue>
#include <stdexcept>
#include <string>

namespace dualpipe::eplb {

std::vector<int> replicate(const std::vector<float>& loads, int num_replicas) {
  const int num_experts = static_cast<int>(loads.size());
  if (num_replicas < num_experts) {
    throw std::invalid_argument("replicas (" + std::to_string(num_replicas) +
                                ") must be at least the number of experts (" +
                                std::to_string(num_experts) + ")");
  }
  std::vector<int> copies(loads.size(), 1);
  // Max-heap on load per copy; on equal values the lower index wins.
  auto heavier = [&](int a, int b) {
    const float per_a = loads[a] / static_cast<float>(copies[a]);
    const float per_b = loads[b] / static_cast<float>(copies[b]);
    return per_a < per_b || (per_a == per_b && a > b);
  };
  std::priority_queue<int, std::vector<int>, decltype(heavier)> queue(heavier);
  for (int e = 0; e < num_experts; ++e) queue.push(e);
  for (int extra = num_experts; extra < num_replicas; ++extra) {
    const int expert = queue.top();
    queue.pop();
    ++copies[expert];
    queue.push(expert);
  }
  return copies;
}

}  // namespace dualpipe::eplb
