// Tensor comparison for the MoE tests: the relative difference their 1e-12 bound is about.
#pragma once

#include <torch/types.h>

#include <algorithm>
#include <limits>
#include <vector>

namespace dualpipe::testing {

// max |a - b| / max |b| (0 when both are zero; infinite when either is undefined, e.g. a
// gradient that never arrived).
inline double relative_difference(const torch::Tensor& a, const torch::Tensor& b) {
  if (!a.defined() || !b.defined()) return std::numeric_limits<double>::infinity();
  const double scale = b.abs().max().item<double>();
  const double diff = (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
  return scale > 0 ? diff / scale : diff;
}

// The largest relative_difference over pairs of tensors.
inline double max_relative_difference(const std::vector<torch::Tensor>& a,
                                      const std::vector<torch::Tensor>& b) {
  double worst = a.size() == b.size() ? 0.0 : 1.0;
  for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i)
    worst = std::max(worst, relative_difference(a[i], b[i]));
  return worst;
}

}  // namespace dualpipe::testing
