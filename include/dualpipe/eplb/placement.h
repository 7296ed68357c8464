// Placement: a plan as the reference returns it (nested phy2log, log2phy and logcnt), for callers
// that want that shape; the library itself works on SlotTable and converts only here.
#pragma once

#include <vector>

#include "dualpipe/eplb/slot_table.h"

namespace dualpipe::eplb {

// A plan for all layers, shaped like the reference's outputs. Physical slot p sits on GPU
// p / replicas_per_gpu.
struct Placement {
  std::vector<std::vector<int>> phy2log;               // [layers][replicas]: expert of each slot
  std::vector<std::vector<std::vector<int>>> log2phy;  // [layers][experts][max copies], -1 padded
  std::vector<std::vector<int>> logcnt;                // [layers][experts]: copies of each expert

  int num_layers() const { return static_cast<int>(phy2log.size()); }
  int num_replicas() const { return phy2log.empty() ? 0 : static_cast<int>(phy2log[0].size()); }
  int num_experts() const { return logcnt.empty() ? 0 : static_cast<int>(logcnt[0].size()); }
};

// The same placement with nested phy2log, log2phy (-1 padded to max_copies()) and logcnt.
Placement to_placement(const SlotTable& table);

// The same placement as a table; copy numbers are the positions in log2phy's rows.
SlotTable to_slot_table(const Placement& placement);

// to_placement(slot_table_from_phy2log(phy2log, num_experts)): each expert's slots listed in
// ascending slot order. Throws std::invalid_argument as slot_table_from_phy2log does.
Placement placement_from_phy2log(const std::vector<std::vector<int>>& phy2log, int num_experts);

}  // namespace dualpipe::eplb
