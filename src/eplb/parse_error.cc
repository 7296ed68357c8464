#include "dualpipe/eplb/parse_error.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

namespace dualpipe::eplb {

ParseError::ParseError(const std::string& message) : std::runtime_error(printable_text(message)) {}

std::string printable_text(std::string_view text) {
  static const char kHex[] = "0123456789abcdef";
  std::string result;
  result.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte == '\\') {
      result += "\\\\";
    } else if (byte >= 0x20 && byte < 0x7f) {
      result += c;
    } else {
      result += "\\x";
      result += kHex[byte >> 4];
      result += kHex[byte & 15];
    }
  }
  return result;
}

std::string_view without_utf8_bom(std::string_view text) {
  constexpr std::string_view kBom = "\xEF\xBB\xBF";
  return text.substr(0, kBom.size()) == kBom ? text.substr(kBom.size()) : text;
}

void check_no_nul_bytes(std::string_view text) {
  const std::size_t nul = text.find('\0');
  if (nul == std::string_view::npos) return;
  const std::size_t line_start = text.rfind('\n', nul);
  const std::size_t line =
      static_cast<std::size_t>(std::count(text.begin(), text.begin() + nul, '\n')) + 1;
  const std::size_t column = line_start == std::string_view::npos ? nul + 1 : nul - line_start;
  throw ParseError("line " + std::to_string(line) + ", column " + std::to_string(column) +
                   ": a NUL byte; expected text");
}

float checked_load(double value, const std::string& where) {
  if (std::isnan(value))
    throw ParseError(where + ": NaN is not a load; expected a finite number >= 0");
  if (std::isinf(value))
    throw ParseError(where + ": infinity is not a load; expected a finite number >= 0");
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
