// Turning rectangular nested rows into load matrices. Internal header of the readers.
#pragma once

#include <vector>

#include "dualpipe/eplb/load_matrix.h"

namespace dualpipe::eplb::detail {

// rows[layer][expert] -> LoadMatrix (rows must be non-empty and of equal length).
inline LoadMatrix matrix_from_rows(const std::vector<std::vector<float>>& rows) {
  LoadMatrix matrix(static_cast<Eigen::Index>(rows.size()), static_cast<Eigen::Index>(rows[0].size()));
  for (std::size_t l = 0; l < rows.size(); ++l) {
    for (std::size_t e = 0; e < rows[l].size(); ++e) matrix(l, e) = rows[l][e];
  }
  return matrix;
}

}  // namespace dualpipe::eplb::detail
