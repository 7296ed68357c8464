// SlotTable: the placement of all layers as two flat [layers, replicas] tables, the one form that
// the planners fill, re-planning and statistics read, and plan files are written from (log2phy and
// logcnt follow from it).
#pragma once

#include <cstddef>
#include <vector>

namespace dualpipe::eplb {

// Slot p of a layer holds copy number copy[p] of expert phy2log[p]: log2phy[expert][copy[p]] = p.
// Slot p sits on GPU p / replicas_per_gpu.
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
  // The experts of `layer`'s slots as a vector, [num_replicas].
  std::vector<int> layer_row(int layer) const;
  // The most copies any expert has in any layer (log2phy's padded row length).
  int max_copies() const;

 private:
  std::size_t offset(int layer) const {
    return static_cast<std::size_t>(layer) * static_cast<std::size_t>(num_replicas);
  }
};

// The table of phy2log rows [layers][replicas], numbering each expert's copies in ascending slot
// order. Throws std::invalid_argument if a slot names an expert outside [0, num_experts), an expert
// has no slot in some layer, or the rows differ in length.
SlotTable slot_table_from_phy2log(const std::vector<std::vector<int>>& phy2log, int num_experts);

// SGLang's trivial placement: slot p holds expert p % num_experts in every layer.
SlotTable trivial_placement(int num_layers, int num_experts, int num_replicas);

// One layer's log2phy and logcnt, into caller buffers: log2phy [experts * max_copies] (row-major,
// -1 padded) and logcnt [experts].
void layer_log2phy(const SlotTable& table, int layer, int max_copies, int* log2phy, int* logcnt);

}  // namespace dualpipe::eplb
