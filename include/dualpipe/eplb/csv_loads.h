// CSV load files: one row of comma-separated loads per layer; a blank line starts the next step.
#pragma once

#include <string>
#include <string_view>

#include "dualpipe/eplb/load_matrix.h"

namespace dualpipe::eplb {

// Parses CSV text (lines starting with '#' are comments). Throws ParseError naming the line and column
// of the first problem: no numbers, a field that is not a number, NaN/inf/negative/out-of-float32
// values, rows of different lengths, steps with different numbers of rows.
LoadSeries parse_csv_loads(std::string_view text);

// CSV text that parse_csv_loads reads back exactly.
std::string format_csv_loads(const LoadSeries& series);

}  // namespace dualpipe::eplb
