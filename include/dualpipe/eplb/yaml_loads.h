// YAML load files: a sequence of layer rows, a sequence of steps of them, or a map with a "loads" key.
#pragma once

#include <string>
#include <string_view>

#include "dualpipe/eplb/load_matrix.h"

namespace dualpipe::eplb {

// Parses YAML text (yaml-cpp). Throws ParseError naming the line and column of the first problem.
LoadSeries parse_yaml_loads(std::string_view text);

// YAML text that parse_yaml_loads reads back exactly ("loads:" then one flow sequence per row).
std::string format_yaml_loads(const LoadSeries& series);

}  // namespace dualpipe::eplb
