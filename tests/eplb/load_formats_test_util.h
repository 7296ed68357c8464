// Test helper: small load series used by the reader tests.
#pragma once

#include "dualpipe/eplb/load_matrix.h"

namespace dualpipe::eplb::testing {

// Two steps of 3 layers x 4 experts with integers, fractions and zeros.
inline LoadSeries two_step_series() {
  LoadMatrix a(3, 4), b(3, 4);
  a << 1, 2.5f, 0, 7, 3, 3, 3, 3, 0.1f, 1e6f, 12, 0;
  b << 4, 0, 1.25f, 2, 9, 8, 7, 6, 5, 4, 3, 2;
  return {a, b};
}

}  // namespace dualpipe::eplb::testing
