// Placement: which logical expert every physical slot of every layer holds, and the inverse maps.
#pragma once

#include <vector>

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

// Builds log2phy and logcnt from phy2log, listing each expert's slots in ascending slot order and
// padding to the largest copy count of any layer. Throws std::invalid_argument if a slot names an
// expert outside [0, num_experts), an expert has no slot, or the rows differ in length.
Placement placement_from_phy2log(std::vector<std::vector<int>> phy2log, int num_experts);

// SGLang's trivial placement: slot p holds expert p % num_experts in every layer.
Placement trivial_placement(int num_layers, int num_experts, int num_replicas);

}  // namespace dualpipe::eplb
