#include "dualpipe/eplb/load_matrix.h"

#include <cmath>
#include <stdexcept>
#include <string>

namespace dualpipe::eplb {

void validate_loads(const LoadMatrix& loads) {
  if (loads.rows() == 0 || loads.cols() == 0) {
    throw std::invalid_argument("loads must have at least one layer and one expert");
  }
  for (Eigen::Index layer = 0; layer < loads.rows(); ++layer) {
    for (Eigen::Index expert = 0; expert < loads.cols(); ++expert) {
      const float value = loads(layer, expert);
      if (!std::isfinite(value) || value < 0.0f) {
        throw std::invalid_argument("load of layer " + std::to_string(layer) + ", expert " +
                                    std::to_string(expert) + " is " + std::to_string(value) +
                                    "; expected a finite, non-negative number");
      }
    }
  }
}

void validate_series(const LoadSeries& series) {
  if (series.empty()) throw std::invalid_argument("the load series has no steps");
  for (std::size_t step = 0; step < series.size(); ++step) {
    if (series[step].rows() != series[0].rows() || series[step].cols() != series[0].cols()) {
      throw std::invalid_argument("step " + std::to_string(step) + " has shape " +
                                  std::to_string(series[step].rows()) + "x" +
                                  std::to_string(series[step].cols()) + "; expected " +
                                  std::to_string(series[0].rows()) + "x" +
                                  std::to_string(series[0].cols()) + " like step 0");
    }
    validate_loads(series[step]);
  }
}

std::vector<float> layer_loads(const LoadMatrix& loads, int layer) {
  std::vector<float> row(static_cast<std::size_t>(loads.cols()));
  for (Eigen::Index expert = 0; expert < loads.cols(); ++expert) row[expert] = loads(layer, expert);
  return row;
}

}  // namespace dualpipe::eplb
