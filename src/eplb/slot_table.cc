#include "dualpipe/eplb/slot_table.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace dualpipe::eplb {

std::vector<int> SlotTable::layer_row(int layer) const {
  const int* row = layer_phy2log(layer);
  return std::vector<int>(row, row + num_replicas);
}

int SlotTable::max_copies() const {
  return copy.empty() ? 0 : *std::max_element(copy.begin(), copy.end()) + 1;
}

SlotTable slot_table_from_phy2log(const std::vector<std::vector<int>>& phy2log, int num_experts) {
  SlotTable table;
  table.num_layers = static_cast<int>(phy2log.size());
  table.num_replicas = phy2log.empty() ? 0 : static_cast<int>(phy2log[0].size());
  table.num_experts = num_experts;
  table.phy2log.reserve(static_cast<std::size_t>(table.num_layers) * table.num_replicas);
  table.copy.reserve(table.phy2log.capacity());
  std::vector<int> copies(static_cast<std::size_t>(std::max(num_experts, 0)));
  for (std::size_t layer = 0; layer < phy2log.size(); ++layer) {
    if (phy2log[layer].size() != phy2log[0].size()) {
      throw std::invalid_argument("layer " + std::to_string(layer) + " has " +
                                  std::to_string(phy2log[layer].size()) + " slots; layer 0 has " +
                                  std::to_string(phy2log[0].size()));
    }
    std::fill(copies.begin(), copies.end(), 0);
    for (std::size_t slot = 0; slot < phy2log[layer].size(); ++slot) {
      const int expert = phy2log[layer][slot];
      if (expert < 0 || expert >= num_experts) {
        throw std::invalid_argument(
            "layer " + std::to_string(layer) + ", slot " + std::to_string(slot) + " holds expert " +
            std::to_string(expert) + "; expected 0.." + std::to_string(num_experts - 1));
      }
      table.phy2log.push_back(expert);
      table.copy.push_back(copies[expert]++);
    }
    for (int expert = 0; expert < num_experts; ++expert) {
      if (copies[expert] == 0) {
        throw std::invalid_argument("layer " + std::to_string(layer) + " has no slot for expert " +
                                    std::to_string(expert));
      }
    }
  }
  return table;
}

SlotTable trivial_placement(int num_layers, int num_experts, int num_replicas) {
  SlotTable table;
  table.num_layers = num_layers;
  table.num_replicas = num_replicas;
  table.num_experts = num_experts;
  for (int layer = 0; layer < num_layers; ++layer) {
    for (int slot = 0; slot < num_replicas; ++slot) {
      table.phy2log.push_back(slot % num_experts);
      table.copy.push_back(slot / num_experts);
    }
  }
  return table;
}

void layer_log2phy(const SlotTable& table, int layer, int max_copies, int* log2phy, int* logcnt) {
  std::fill(log2phy, log2phy + static_cast<std::ptrdiff_t>(table.num_experts) * max_copies, -1);
  std::fill(logcnt, logcnt + table.num_experts, 0);
  const int* experts = table.layer_phy2log(layer);
  const int* copies = table.layer_copy(layer);
  for (int slot = 0; slot < table.num_replicas; ++slot) {
    log2phy[experts[slot] * max_copies + copies[slot]] = slot;
    ++logcnt[experts[slot]];
  }
}

}  // namespace dualpipe::eplb
