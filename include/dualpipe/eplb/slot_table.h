// SlotTable: a placement of all layers as two flat [layers, replicas] tables, the compact form that
// planners fill and plan files are written from (log2phy and logcnt follow from it).
#pragma once

#include <cstddef>
#include <vector>

#include "dualpipe/eplb/placement.h"

namespace dualpipe::eplb {

// Slot p of a layer holds copy number copy[p] of expert phy2log[p]: log2phy[expert][copy[p]] = p.
struct SlotTable {
  int num_layers = 0;
  int num_replicas = 0;
  int num_experts = 0;
  std::vector<int> phy2log;  // [layers * replicas]: expert of each slot
  std::vector<int> copy;     // [layers * replicas]: the slot's column in its expert's log2phy row

  // The expert of each slot of `layer`, [num_replicas].
  const int* layer_phy2log(int layer) const { return phy2log.data() + offset(layer); }
  // The copy number of each slot of `layer`, [num_replicas].
  const int* layer_copy(int layer) const { return copy.data() + offset(layer); }
  // The most copies any expert has in any layer (log2phy's padded row length).
  int max_copies() const;

 private:
  std::size_t offset(int layer) const {
    return static_cast<std::size_t>(layer) * static_cast<std::size_t>(num_replicas);
  }
};

// The same placement as a table; copy numbers are the positions in log2phy's rows.
SlotTable to_slot_table(const Placement& placement);

// The same placement with nested phy2log, log2phy (-1 padded to max_copies()) and logcnt.
Placement to_placement(const SlotTable& table);

// One layer's log2phy and logcnt, into caller buffers: log2phy [experts * max_copies] (row-major,
// -1 padded) and logcnt [experts].
void layer_log2phy(const SlotTable& table, int layer, int max_copies, int* log2phy, int* logcnt);

}  // namespace dualpipe::eplb
