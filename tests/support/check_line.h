// max_rel_grad_diff: the gradient difference a bench's `--check` JSON line reports.
#pragma once

#include <string>

namespace testing_support {

// The number after "max_rel_grad_diff": in `line`; 1 when the line has none (so a missing check
// fails a bound on it).
inline double max_rel_grad_diff(const std::string& line) {
  const std::string key = "\"max_rel_grad_diff\": ";
  const std::size_t at = line.find(key);
  return at == std::string::npos ? 1.0 : std::stod(line.substr(at + key.size()));
}

}  // namespace testing_support
