// Refusing YAML maps with a key given twice (yaml-cpp would quietly use the first). Internal
// header.
#pragma once

#include <yaml-cpp/yaml.h>

namespace dualpipe::eplb::detail {

// Throws ParseError "line L, column C: the key \"k\" appears twice" at the second occurrence of a
// key in the first map of `root` (depth first) that holds one twice.
void check_unique_map_keys(const YAML::Node& root);

}  // namespace dualpipe::eplb::detail
