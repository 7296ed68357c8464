// MeshLayout: the rank arithmetic of pipeline x data x expert parallelism (which global rank holds
// which pipeline stage of which data-parallel replica, and which ranks share experts), without
// processes or communicators.
#pragma once

#include <string>
#include <vector>

namespace dualpipe::runtime {

// Which mesh dimension varies fastest along the global ranks.
enum class MeshOrder {
  // Consecutive ranks are data-parallel replicas of one pipeline rank: rank = pp * dp + d. Expert-
  // parallel groups (consecutive data-parallel ranks) then sit inside a node, and only pipeline
  // messages cross nodes (the default; Megatron-LM puts pipeline parallelism outermost too).
  kDataInnermost,
  // Consecutive ranks are the pipeline ranks of one replica: rank = d * pp + p. A pipeline then
  // sits inside a node, and gradient reductions cross nodes.
  kPipelineInnermost,
};

// The degrees of parallelism of a training job: world size = pp x dp; experts are spread over
// groups of `ep` data-parallel ranks (ep divides dp).
struct MeshShape {
  int pp = 1;  // pipeline ranks per replica
  int dp = 1;  // data-parallel replicas
  int ep = 1;  // expert-parallel ranks (a divisor of dp)
  MeshOrder order = MeshOrder::kDataInnermost;
};

// "pp 2 x dp 4 x ep 2, data innermost".
std::string to_string(const MeshShape& shape);

// Where one global rank sits in the mesh.
struct MeshCoordinates {
  int pipeline = 0;     // its pipeline rank, 0..pp-1
  int data = 0;         // its data-parallel replica, 0..dp-1
  int expert = 0;       // its rank in its expert-parallel group, data % ep
  int expert_data = 0;  // which expert-parallel group of its pipeline rank, data / ep
};

// The rank arithmetic of a mesh over `world_size` processes.
class MeshLayout {
 public:
  // Throws std::invalid_argument naming the problem when a degree is below 1, pp x dp is not the
  // world size, or ep does not divide dp.
  MeshLayout(int world_size, MeshShape shape);

  const MeshShape& shape() const { return shape_; }
  int world_size() const { return world_size_; }

  // The global rank of pipeline rank `pipeline` in replica `data`.
  int rank_of(int pipeline, int data) const;
  MeshCoordinates coordinates(int rank) const;

  // Global ranks of replica `data`'s pipeline, by pipeline rank.
  std::vector<int> pipeline_ranks(int data) const;
  // Global ranks holding pipeline rank `pipeline` in each replica, by replica.
  std::vector<int> data_parallel_ranks(int pipeline) const;
  // Global ranks of the expert-parallel group `expert_data` of pipeline rank `pipeline`, by
  // expert rank (they exchange tokens and hold different experts).
  std::vector<int> expert_parallel_ranks(int pipeline, int expert_data) const;
  // Global ranks at pipeline rank `pipeline` with expert rank `expert`, one per expert-parallel
  // group (they hold the same experts and sum those experts' gradients).
  std::vector<int> expert_data_ranks(int pipeline, int expert) const;

 private:
  int world_size_;
  MeshShape shape_;
};

}  // namespace dualpipe::runtime
