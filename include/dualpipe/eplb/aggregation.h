// Aggregation: one load matrix from a time series of them (sum, mean, sliding window or EMA).
#pragma once

#include <string>

#include "dualpipe/eplb/load_matrix.h"

namespace dualpipe::eplb {

// How steps are combined. kWindow averages the last `window` steps; kEma weighs step t by
// alpha * (1 - alpha)^(age), starting from the first step.
struct Aggregation {
  enum class Kind { kSum, kMean, kWindow, kEma };
  Kind kind = Kind::kSum;
  int window = 0;      // kWindow: steps averaged, >= 1
  double alpha = 0.0;  // kEma: weight of the newest step, in (0, 1]
};

// Parses "sum", "mean", "window:K" (K >= 1) or "ema:ALPHA" (0 < ALPHA <= 1); throws
// std::invalid_argument with a message naming the expected forms otherwise.
Aggregation parse_aggregation(const std::string& text);

// The text parse_aggregation reads back ("window:8", "ema:0.25", ...).
std::string to_string(const Aggregation& aggregation);

// Combines steps [0, end_step) of `series` (all steps when end_step < 0), in double precision, into
// one float32 matrix. Throws std::invalid_argument when there are no steps or a result exceeds the
// float32 range.
LoadMatrix aggregate(const LoadSeries& series, const Aggregation& aggregation, int end_step = -1);
// The same, taking a single aggregated step out of `series` instead of copying it.
LoadMatrix aggregate(LoadSeries&& series, const Aggregation& aggregation, int end_step = -1);

}  // namespace dualpipe::eplb
