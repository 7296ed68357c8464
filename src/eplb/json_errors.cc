#include "json_errors.h"

#include <algorithm>
#include <set>
#include <string>

#include "dualpipe/eplb/parse_error.h"

namespace dualpipe::eplb::detail {
namespace {

namespace ondemand = simdjson::ondemand;

// Reads `value` and everything in it, stopping at the first error.
simdjson::error_code read_all(ondemand::value value, int depth) {
  if (depth > 1024) return simdjson::DEPTH_ERROR;
  ondemand::json_type type;
  if (const auto error = value.type().get(type)) return error;
  switch (type) {
    case ondemand::json_type::array: {
      ondemand::array array;
      if (const auto error = value.get_array().get(array)) return error;
      for (auto item : array) {
        ondemand::value element;
        if (auto error = item.get(element)) return error;
        if (auto error = read_all(element, depth + 1)) return error;
      }
      return simdjson::SUCCESS;
    }
    case ondemand::json_type::object: {
      ondemand::object object;
      if (const auto error = value.get_object().get(object)) return error;
      for (auto field : object) {
        std::string_view key;
        if (auto error = field.unescaped_key().get(key)) return error;
        ondemand::value member;
        if (auto error = field.value().get(member)) return error;
        if (auto error = read_all(member, depth + 1)) return error;
      }
      return simdjson::SUCCESS;
    }
    case ondemand::json_type::number: return value.get_double().error();
    case ondemand::json_type::string: return value.get_string().error();
    case ondemand::json_type::boolean: return value.get_bool().error();
    case ondemand::json_type::null: return value.is_null().error();
  }
  return simdjson::SUCCESS;
}

// Where On-Demand parsing of `text` stops: at its error, or after the root value (trailing
// content). npos when it fails before reading (what first_lexical_error finds).
std::size_t on_demand_stop(std::string_view text) {
  const simdjson::padded_string padded(text.data(), text.size());
  ondemand::parser parser;
  ondemand::document document;
  if (parser.iterate(padded).get(document)) return std::string_view::npos;
  ondemand::value root;
  if (!document.get_value().get(root)) read_all(root, 0);
  const auto location = document.current_location();
  if (location.error()) return text.size();
  return static_cast<std::size_t>(location.value_unsafe() - padded.data());
}

// Length of the UTF-8 sequence starting at text[at], or 0 when it is not valid UTF-8.
std::size_t utf8_length(std::string_view text, std::size_t at) {
  const auto byte = [&](std::size_t i) {
    return i < text.size() ? static_cast<unsigned char>(text[i]) : 0u;
  };
  const unsigned first = byte(at);
  if (first < 0x80) return 1;
  std::size_t length = first >= 0xF0 && first <= 0xF4 ? 4
                       : first >= 0xE0                ? 3
                       : first >= 0xC2                ? 2
                                                      : 0;
  if (first >= 0xF5) length = 0;
  for (std::size_t i = 1; i < length; ++i) {
    if ((byte(at + i) & 0xC0) != 0x80) return 0;
  }
  const unsigned second = byte(at + 1);
  if ((first == 0xE0 && second < 0xA0) || (first == 0xED && second >= 0xA0) ||
      (first == 0xF0 && second < 0x90) || (first == 0xF4 && second >= 0x90)) {
    return 0;
  }
  return length;
}

// The first byte that simdjson rejects before parsing: invalid UTF-8, a control character inside
// a string, or the opening quote of a string that is never closed; npos when there is none.
std::size_t first_lexical_error(std::string_view text) {
  bool in_string = false, escaped = false;
  std::size_t string_start = 0;
  for (std::size_t at = 0; at < text.size();) {
    const std::size_t length = utf8_length(text, at);
    if (length == 0) return at;
    const auto c = static_cast<unsigned char>(text[at]);
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      } else if (c < 0x20) {
        return at;
      }
    } else if (c == '"') {
      in_string = true;
      string_start = at;
    }
    at += length;
  }
  return in_string ? string_start : std::string_view::npos;
}

std::string line_and_column(std::string_view text, std::size_t offset) {
  offset = std::min(offset, text.size());
  const auto line = std::count(text.begin(), text.begin() + offset, '\n') + 1;
  const std::size_t line_start =
      offset == 0 ? std::string_view::npos : text.rfind('\n', offset - 1);
  const std::size_t column =
      line_start == std::string_view::npos ? offset + 1 : offset - line_start;
  return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

void check_unique_keys(simdjson::dom::element value, const std::string& path) {
  if (value.type() == simdjson::dom::element_type::ARRAY) {
    std::size_t index = 0;
    for (simdjson::dom::element item : value.get_array()) {
      if (item.type() == simdjson::dom::element_type::ARRAY ||
          item.type() == simdjson::dom::element_type::OBJECT) {
        check_unique_keys(item, path + "[" + std::to_string(index) + "]");
      }
      ++index;
    }
  } else if (value.type() == simdjson::dom::element_type::OBJECT) {
    std::set<std::string_view> keys;
    for (simdjson::dom::key_value_pair field : value.get_object()) {
      if (!keys.insert(field.key).second) {
        throw ParseError(path + ": the key \"" + std::string(field.key) + "\" appears twice");
      }
      check_unique_keys(field.value, path + "." + std::string(field.key));
    }
  }
}

}  // namespace

void throw_json_syntax_error(std::string_view text, simdjson::error_code error) {
  std::size_t offset = first_lexical_error(text);
  if (offset == std::string_view::npos) offset = on_demand_stop(text);
  if (offset == std::string_view::npos) offset = 0;
  throw ParseError(line_and_column(text, offset) +
                   ": invalid JSON: " + simdjson::error_message(error));
}

void check_unique_keys(simdjson::dom::element root) { check_unique_keys(root, "$"); }

}  // namespace dualpipe::eplb::detail
