#include "dualpipe/eplb/parse_error.h"

#include <charconv>
#include <cmath>
#include <limits>

namespace dualpipe::eplb {

float checked_load(double value, const std::string& where) {
  if (std::isnan(value)) throw ParseError(where + ": NaN is not a load; expected a finite number >= 0");
  if (std::isinf(value)) throw ParseError(where + ": infinity is not a load; expected a finite number >= 0");
  if (value < 0.0) throw ParseError(where + ": negative load; expected a number >= 0");
  if (value > std::numeric_limits<float>::max()) {
    throw ParseError(where + ": load exceeds the float32 range (3.4e38)");
  }
  return static_cast<float>(value);
}

bool is_valid_load(double value) {
  return value >= 0.0 && value <= std::numeric_limits<float>::max();  // false for NaN too
}

std::string format_number(float value) {
  char buffer[32];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, result.ptr);
}

std::string format_number(double value) {
  char buffer[32];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, result.ptr);
}

}  // namespace dualpipe::eplb
