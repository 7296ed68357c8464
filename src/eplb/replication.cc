#include "dualpipe/eplb/replication.h"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <string>

#include "reference_steps.h"

namespace dualpipe::eplb {
namespace {

using detail::LoadPerCopy;

void check_replicas(std::size_t num_experts, int num_replicas) {
  if (num_replicas < static_cast<int>(num_experts)) {
    throw std::invalid_argument("replicas (" + std::to_string(num_replicas) +
                                ") must be at least the number of experts (" +
                                std::to_string(num_experts) + ")");
  }
}

// Heap order: the larger load per copy on top; on equal values the lower expert index.
constexpr auto lighter = [](const LoadPerCopy& a, const LoadPerCopy& b) {
  return a.load < b.load || (a.load == b.load && a.expert > b.expert);
};

// Gives every expert one copy in copies[0, num_experts), then hands out the extra copies one at a
// time, calling on_copy(expert, copies before this one) for each, in order. Throws when the cap
// stops it.
template <typename OnCopy>
void hand_out_copies(const float* loads, int num_experts, int num_replicas, int max_copies,
                     int* copies, std::vector<LoadPerCopy>& heap, OnCopy on_copy) {
  heap.clear();
  for (int e = 0; e < num_experts; ++e) {
    copies[e] = 1;
    if (max_copies > 1) heap.push_back({loads[e], e});
  }
  std::make_heap(heap.begin(), heap.end(), lighter);
  for (int extra = num_experts; extra < num_replicas; ++extra) {
    if (heap.empty()) {
      throw std::invalid_argument("cannot place " + std::to_string(num_replicas) + " replicas of " +
                                  std::to_string(num_experts) + " experts with at most " +
                                  std::to_string(max_copies) + " copies each");
    }
    std::pop_heap(heap.begin(), heap.end(), lighter);
    LoadPerCopy& top = heap.back();
    const int expert = top.expert;
    on_copy(expert, copies[expert]);
    if (++copies[expert] < max_copies) {
      top.load =
          loads[expert] / static_cast<float>(copies[expert]);  // float32, as the reference divides
      std::push_heap(heap.begin(), heap.end(), lighter);
    } else {
      heap.pop_back();
    }
  }
}

}  // namespace

namespace detail {

void replicate_in_order(const float* loads, int num_experts, int num_replicas, int* phy2log,
                        int* rank, int* count, StepScratch& scratch) {
  for (int e = 0; e < num_experts; ++e) {
    phy2log[e] = e;
    rank[e] = 0;
  }
  int next = num_experts;
  hand_out_copies(loads, num_experts, num_replicas, std::numeric_limits<int>::max(), count,
                  scratch.replication_heap, [&](int expert, int existing_copies) {
                    phy2log[next] = expert;
                    rank[next] = existing_copies;
                    ++next;
                  });
}

}  // namespace detail

std::vector<int> replicate(const std::vector<float>& loads, int num_replicas, int max_copies) {
  check_replicas(loads.size(), num_replicas);
  std::vector<int> copies(loads.size());
  std::vector<LoadPerCopy> heap;
  hand_out_copies(loads.data(), static_cast<int>(loads.size()), num_replicas, max_copies,
                  copies.data(), heap, [](int, int) {});
  return copies;
}

Replication replicate_in_order(const std::vector<float>& loads, int num_replicas) {
  check_replicas(loads.size(), num_replicas);
  const auto replicas = static_cast<std::size_t>(num_replicas);
  Replication result{std::vector<int>(replicas), std::vector<int>(replicas),
                     std::vector<int>(loads.size())};
  detail::StepScratch scratch;
  detail::replicate_in_order(loads.data(), static_cast<int>(loads.size()), num_replicas,
                             result.phy2log.data(), result.rank.data(), result.count.data(),
                             scratch);
  return result;
}

}  // namespace dualpipe::eplb
