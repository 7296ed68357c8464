#include "dualpipe/eplb/replication.h"

#include <queue>
#include <stdexcept>
#include <string>

namespace dualpipe::eplb {
namespace {

void check_replicas(std::size_t num_experts, int num_replicas) {
  if (num_replicas < static_cast<int>(num_experts)) {
    throw std::invalid_argument("replicas (" + std::to_string(num_replicas) +
                                ") must be at least the number of experts (" +
                                std::to_string(num_experts) + ")");
  }
}

// Calls on_copy(expert) for each extra copy, in the order the copies are handed out.
template <typename OnCopy>
std::vector<int> hand_out_copies(const std::vector<float>& loads, int num_replicas, int max_copies,
                                 OnCopy on_copy) {
  check_replicas(loads.size(), num_replicas);
  const int num_experts = static_cast<int>(loads.size());
  std::vector<int> copies(loads.size(), 1);
  // Max-heap on load per copy (float32, as the reference divides); on equal values the lower index wins.
  auto lighter = [&](int a, int b) {
    const float per_a = loads[a] / static_cast<float>(copies[a]);
    const float per_b = loads[b] / static_cast<float>(copies[b]);
    return per_a < per_b || (per_a == per_b && a > b);
  };
  std::priority_queue<int, std::vector<int>, decltype(lighter)> queue(lighter);
  for (int e = 0; e < num_experts; ++e) {
    if (copies[e] < max_copies) queue.push(e);
  }
  for (int extra = num_experts; extra < num_replicas; ++extra) {
    if (queue.empty()) {
      throw std::invalid_argument("cannot place " + std::to_string(num_replicas) + " replicas of " +
                                  std::to_string(num_experts) + " experts with at most " +
                                  std::to_string(max_copies) + " copies each");
    }
    const int expert = queue.top();
    queue.pop();
    on_copy(expert, copies[expert]);
    ++copies[expert];
    if (copies[expert] < max_copies) queue.push(expert);
  }
  return copies;
}

}  // namespace

std::vector<int> replicate(const std::vector<float>& loads, int num_replicas, int max_copies) {
  return hand_out_copies(loads, num_replicas, max_copies, [](int, int) {});
}

Replication replicate_in_order(const std::vector<float>& loads, int num_replicas) {
  Replication result;
  result.phy2log.reserve(static_cast<std::size_t>(std::max<int>(num_replicas, 0)));
  for (std::size_t e = 0; e < loads.size(); ++e) result.phy2log.push_back(static_cast<int>(e));
  result.rank.assign(loads.size(), 0);
  result.count = hand_out_copies(loads, num_replicas, std::numeric_limits<int>::max(),
                                 [&](int expert, int existing_copies) {
                                   result.phy2log.push_back(expert);
                                   result.rank.push_back(existing_copies);
                                 });
  return result;
}

}  // namespace dualpipe::eplb
