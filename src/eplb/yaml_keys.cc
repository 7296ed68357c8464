#include "yaml_keys.h"

#include <set>
#include <string>

#include "dualpipe/eplb/parse_error.h"

namespace dualpipe::eplb::detail {

void check_unique_map_keys(const YAML::Node& root) {
  if (root.IsSequence()) {
    for (const YAML::Node& item : root) {
      if (item.IsMap() || item.IsSequence()) check_unique_map_keys(item);
    }
  } else if (root.IsMap()) {
    std::set<std::string> keys;
    for (const auto& entry : root) {
      if (entry.first.IsScalar() && !keys.insert(entry.first.Scalar()).second) {
        const YAML::Mark mark = entry.first.Mark();
        throw ParseError("line " + std::to_string(mark.line + 1) + ", column " +
                         std::to_string(mark.column + 1) + ": the key \"" + entry.first.Scalar() +
                         "\" appears twice");
      }
      check_unique_map_keys(entry.second);
    }
  }
}

}  // namespace dualpipe::eplb::detail
