#include "number_flags.h"

#include <charconv>
#include <cmath>
#include <sstream>
#include <system_error>

namespace dualpipe::apps {
namespace {

std::string number_text(double value) {
  std::ostringstream text;
  text << value;
  return text.str();
}

// Parses all of `text` as `T`; false when it is not one number of that type.
template <typename T>
bool parse_whole(const std::string& text, T& value) {
  const char* first = text.data();
  const char* last = first + text.size();
  if (first != last && *first == '+') ++first;
  const auto [end, error] = std::from_chars(first, last, value);
  return error == std::errc() && end == last && first != last;
}

// Decimal digits with an optional sign and no leading zero (CLI11 would read "010" as octal 8).
bool canonical_integer(const std::string& text) {
  const std::size_t digits = text.find_first_not_of("+-") == 1 ? 1 : 0;
  return text.size() > digits && (text[digits] != '0' || text.size() == digits + 1);
}

bool integer_within(const std::string& text, int64_t min, uint64_t max) {
  if (!canonical_integer(text)) return false;
  if (min >= 0) {
    uint64_t value = 0;
    return parse_whole(text, value) && value >= static_cast<uint64_t>(min) && value <= max;
  }
  int64_t value = 0;
  return parse_whole(text, value) && value >= min &&
         (value < 0 || static_cast<uint64_t>(value) <= max);
}

}  // namespace

std::string quoted_value(const std::string& text) {
  return "'" + (text.size() <= 40 ? text : text.substr(0, 40) + "...") + "'";
}

CLI::Validator integer_in(int64_t min, uint64_t max) {
  const std::string rule = "an integer from " + std::to_string(min) + " to " + std::to_string(max);
  return CLI::Validator(
      [min, max, rule](std::string& text) -> std::string {
        if (integer_within(text, min, max)) return "";
        return "expected " + rule + ", got " + quoted_value(text);
      },
      "");
}

CLI::Validator real_in(double min, double max) {
  const std::string rule = "a number from " + number_text(min) + " to " + number_text(max);
  return CLI::Validator(
      [min, max, rule](std::string& text) -> std::string {
        double value = 0;
        if (parse_whole(text, value) && std::isfinite(value) && value >= min && value <= max) {
          return "";
        }
        return "expected " + rule + ", got " + quoted_value(text);
      },
      "");
}

}  // namespace dualpipe::apps
