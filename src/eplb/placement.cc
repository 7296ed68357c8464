#include "dualpipe/eplb/placement.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace dualpipe::eplb {

Placement placement_from_phy2log(std::vector<std::vector<int>> phy2log, int num_experts) {
  Placement placement;
  placement.logcnt.assign(phy2log.size(), std::vector<int>(static_cast<std::size_t>(num_experts), 0));
  int max_copies = 0;
  for (std::size_t layer = 0; layer < phy2log.size(); ++layer) {
    if (phy2log[layer].size() != phy2log[0].size()) {
      throw std::invalid_argument("layer " + std::to_string(layer) + " has " +
                                  std::to_string(phy2log[layer].size()) + " slots; layer 0 has " +
                                  std::to_string(phy2log[0].size()));
    }
    for (std::size_t slot = 0; slot < phy2log[layer].size(); ++slot) {
      const int expert = phy2log[layer][slot];
      if (expert < 0 || expert >= num_experts) {
        throw std::invalid_argument("layer " + std::to_string(layer) + ", slot " +
                                    std::to_string(slot) + " holds expert " + std::to_string(expert) +
                                    "; expected 0.." + std::to_string(num_experts - 1));
      }
      max_copies = std::max(max_copies, ++placement.logcnt[layer][expert]);
    }
    for (int expert = 0; expert < num_experts; ++expert) {
      if (placement.logcnt[layer][expert] == 0) {
        throw std::invalid_argument("layer " + std::to_string(layer) + " has no slot for expert " +
                                    std::to_string(expert));
      }
    }
  }
  placement.log2phy.assign(phy2log.size(),
                           std::vector<std::vector<int>>(static_cast<std::size_t>(num_experts),
                                                         std::vector<int>(max_copies, -1)));
  for (std::size_t layer = 0; layer < phy2log.size(); ++layer) {
    std::vector<int> filled(static_cast<std::size_t>(num_experts), 0);
    for (std::size_t slot = 0; slot < phy2log[layer].size(); ++slot) {
      const int expert = phy2log[layer][slot];
      placement.log2phy[layer][expert][filled[expert]++] = static_cast<int>(slot);
    }
  }
  placement.phy2log = std::move(phy2log);
  return placement;
}

Placement trivial_placement(int num_layers, int num_experts, int num_replicas) {
  std::vector<std::vector<int>> phy2log(static_cast<std::size_t>(num_layers),
                                        std::vector<int>(static_cast<std::size_t>(num_replicas)));
  for (auto& row : phy2log) {
    for (int slot = 0; slot < num_replicas; ++slot) row[slot] = slot % num_experts;
  }
  return placement_from_phy2log(std::move(phy2log), num_experts);
}

}  // namespace dualpipe::eplb
