// Expert load matrices: tokens (or any non-negative load) per MoE layer and logical expert.
#pragma once

#include <Eigen/Core>
#include <vector>

namespace dualpipe::eplb {

// Loads of one time step (or an aggregate): shape [layers, logical experts], float32 like the reference.
using LoadMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// Loads over time: one LoadMatrix per step, all of the same shape.
using LoadSeries = std::vector<LoadMatrix>;

// Throws std::invalid_argument, naming the layer and expert, unless `loads` has at least one layer and
// one expert and every entry is finite and non-negative.
void validate_loads(const LoadMatrix& loads);

// Throws std::invalid_argument unless `series` has at least one step, every step has the shape of the
// first and passes validate_loads.
void validate_series(const LoadSeries& series);

// One layer's loads as a vector (the row `layer` of `loads`).
std::vector<float> layer_loads(const LoadMatrix& loads, int layer);

}  // namespace dualpipe::eplb
