#include "dualpipe/eplb/slot_table.h"

#include <algorithm>

namespace dualpipe::eplb {

int SlotTable::max_copies() const {
  return copy.empty() ? 0 : *std::max_element(copy.begin(), copy.end()) + 1;
}

SlotTable to_slot_table(const Placement& placement) {
  SlotTable table;
  table.num_layers = placement.num_layers();
  table.num_replicas = placement.num_replicas();
  table.num_experts = placement.num_experts();
  table.phy2log.reserve(static_cast<std::size_t>(table.num_layers) * table.num_replicas);
  table.copy.resize(static_cast<std::size_t>(table.num_layers) * table.num_replicas);
  for (int layer = 0; layer < table.num_layers; ++layer) {
    const auto& row = placement.phy2log[layer];
    table.phy2log.insert(table.phy2log.end(), row.begin(), row.end());
    int* copy = table.copy.data() + static_cast<std::size_t>(layer) * table.num_replicas;
    for (const auto& slots : placement.log2phy[layer]) {
      for (std::size_t c = 0; c < slots.size() && slots[c] >= 0; ++c)
        copy[slots[c]] = static_cast<int>(c);
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

Placement to_placement(const SlotTable& table) {
  const int max_copies = table.max_copies();
  const auto experts = static_cast<std::size_t>(table.num_experts);
  Placement placement;
  placement.phy2log.resize(static_cast<std::size_t>(table.num_layers));
  placement.log2phy.resize(static_cast<std::size_t>(table.num_layers));
  placement.logcnt.resize(static_cast<std::size_t>(table.num_layers));
  std::vector<int> log2phy(experts * static_cast<std::size_t>(max_copies));
  for (int layer = 0; layer < table.num_layers; ++layer) {
    const int* row = table.layer_phy2log(layer);
    placement.phy2log[layer].assign(row, row + table.num_replicas);
    placement.logcnt[layer].resize(experts);
    layer_log2phy(table, layer, max_copies, log2phy.data(), placement.logcnt[layer].data());
    placement.log2phy[layer].resize(experts);
    for (std::size_t e = 0; e < experts; ++e) {
      const int* copies = log2phy.data() + e * static_cast<std::size_t>(max_copies);
      placement.log2phy[layer][e].assign(copies, copies + max_copies);
    }
  }
  return placement;
}

}  // namespace dualpipe::eplb
