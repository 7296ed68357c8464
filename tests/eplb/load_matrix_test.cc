#include "dualpipe/eplb/load_matrix.h"

#include <gtest/gtest.h>

#include <limits>
#include <stdexcept>

namespace dualpipe::eplb {
namespace {

TEST(ValidateLoads, RejectsEmptyNegativeAndNonFiniteLoads) {
  EXPECT_THROW(validate_loads(LoadMatrix(0, 3)), std::invalid_argument);
  LoadMatrix loads = LoadMatrix::Ones(2, 3);
  EXPECT_NO_THROW(validate_loads(loads));
  loads(1, 2) = std::numeric_limits<float>::quiet_NaN();
  EXPECT_THROW(validate_loads(loads), std::invalid_argument);
  loads(1, 2) = -1.0f;
  EXPECT_THROW(validate_loads(loads), std::invalid_argument);
}

TEST(ValidateSeries, RejectsStepsOfDifferentShapes) {
  EXPECT_THROW(validate_series({}), std::invalid_argument);
  EXPECT_THROW(validate_series({LoadMatrix::Ones(2, 3), LoadMatrix::Ones(3, 3)}), std::invalid_argument);
}

TEST(LayerLoads, CopiesOneRow) {
  LoadMatrix loads(2, 2);
  loads << 1, 2, 3, 4;
  EXPECT_EQ(layer_loads(loads, 1), (std::vector<float>{3, 4}));
}

}  // namespace
}  // namespace dualpipe::eplb
