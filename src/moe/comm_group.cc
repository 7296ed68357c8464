#include "dualpipe/moe/comm_group.h"

#include <algorithm>
#include <set>
#include <stdexcept>
#include <string>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>

namespace dualpipe::moe {

CommGroup make_expert_group(const c10::intrusive_ptr<c10d::Store>& store,
                            const std::vector<int>& ranks, int global_rank, torch::Device device,
                            std::chrono::milliseconds timeout, runtime::MessageBackend backend) {
  const auto me = std::find(ranks.begin(), ranks.end(), global_rank);
  if (me == ranks.end() || std::set<int>(ranks.begin(), ranks.end()).size() != ranks.size()) {
    throw std::invalid_argument("expert group: rank " + std::to_string(global_rank) +
                                " must be one of its distinct ranks");
  }
  std::string name = "dualpipe/experts";
  for (int r : ranks) name += "/" + std::to_string(r);
  const auto prefixed = c10::make_intrusive<c10d::PrefixStore>(name, store);
  const int rank = static_cast<int>(me - ranks.begin());
  const int size = static_cast<int>(ranks.size());
  return runtime::make_communicator(prefixed, rank, size, device, timeout, backend);
}

}  // namespace dualpipe::moe
