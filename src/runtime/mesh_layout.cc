#include "dualpipe/runtime/mesh_layout.h"

#include <stdexcept>

namespace dualpipe::runtime {

std::string to_string(const MeshShape& shape) {
  return "pp " + std::to_string(shape.pp) + " x dp " + std::to_string(shape.dp) + " x ep " +
         std::to_string(shape.ep) +
         (shape.order == MeshOrder::kDataInnermost ? ", data innermost" : ", pipeline innermost");
}

MeshLayout::MeshLayout(int world_size, MeshShape shape) : world_size_(world_size), shape_(shape) {
  if (shape.pp < 1 || shape.dp < 1 || shape.ep < 1) {
    throw std::invalid_argument("mesh degrees must be at least 1, got " + to_string(shape));
  }
  if (static_cast<long long>(shape.pp) * shape.dp != world_size) {
    throw std::invalid_argument("world size " + std::to_string(world_size) + " is not pp " +
                                std::to_string(shape.pp) + " x dp " + std::to_string(shape.dp));
  }
  if (shape.dp % shape.ep != 0) {
    throw std::invalid_argument("ep " + std::to_string(shape.ep) + " does not divide dp " +
                                std::to_string(shape.dp));
  }
}

int MeshLayout::rank_of(int pipeline, int data) const {
  if (pipeline < 0 || pipeline >= shape_.pp || data < 0 || data >= shape_.dp) {
    throw std::out_of_range("no rank at pipeline " + std::to_string(pipeline) + ", data " +
                            std::to_string(data) + " in " + to_string(shape_));
  }
  return shape_.order == MeshOrder::kDataInnermost ? pipeline * shape_.dp + data
                                                   : data * shape_.pp + pipeline;
}

MeshCoordinates MeshLayout::coordinates(int rank) const {
  if (rank < 0 || rank >= world_size_) {
    throw std::out_of_range("rank " + std::to_string(rank) + " is outside a world of " +
                            std::to_string(world_size_));
  }
  MeshCoordinates c;
  if (shape_.order == MeshOrder::kDataInnermost) {
    c.pipeline = rank / shape_.dp;
    c.data = rank % shape_.dp;
  } else {
    c.pipeline = rank % shape_.pp;
    c.data = rank / shape_.pp;
  }
  c.expert = c.data % shape_.ep;
  c.expert_data = c.data / shape_.ep;
  return c;
}

std::vector<int> MeshLayout::pipeline_ranks(int data) const {
  std::vector<int> ranks;
  for (int p = 0; p < shape_.pp; ++p) ranks.push_back(rank_of(p, data));
  return ranks;
}

std::vector<int> MeshLayout::data_parallel_ranks(int pipeline) const {
  std::vector<int> ranks;
  for (int d = 0; d < shape_.dp; ++d) ranks.push_back(rank_of(pipeline, d));
  return ranks;
}

std::vector<int> MeshLayout::expert_parallel_ranks(int pipeline, int expert_data) const {
  std::vector<int> ranks;
  for (int e = 0; e < shape_.ep; ++e)
    ranks.push_back(rank_of(pipeline, expert_data * shape_.ep + e));
  return ranks;
}

std::vector<int> MeshLayout::expert_data_ranks(int pipeline, int expert) const {
  std::vector<int> ranks;
  for (int g = 0; g < shape_.dp / shape_.ep; ++g)
    ranks.push_back(rank_of(pipeline, g * shape_.ep + expert));
  return ranks;
}

}  // namespace dualpipe::runtime
