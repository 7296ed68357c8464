#include "dualpipe/eplb/placement.h"

namespace dualpipe::eplb {

Placement to_placement(const SlotTable& table) {
  const int max_copies = table.max_copies();
  const auto experts = static_cast<std::size_t>(table.num_experts);
  Placement placement;
  placement.phy2log.resize(static_cast<std::size_t>(table.num_layers));
  placement.log2phy.resize(static_cast<std::size_t>(table.num_layers));
  placement.logcnt.resize(static_cast<std::size_t>(table.num_layers));
  std::vector<int> log2phy(experts * static_cast<std::size_t>(max_copies));
  for (int layer = 0; layer < table.num_layers; ++layer) {
    placement.phy2log[layer] = table.layer_row(layer);
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

Placement placement_from_phy2log(const std::vector<std::vector<int>>& phy2log, int num_experts) {
  return to_placement(slot_table_from_phy2log(phy2log, num_experts));
}

}  // namespace dualpipe::eplb
