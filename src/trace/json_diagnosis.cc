#include "json_diagnosis.h"

namespace dualpipe::trace {

std::size_t first_invalid_utf8(std::string_view text) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t size = text.size();
  std::size_t i = 0;
  while (i < size) {
    const unsigned char lead = bytes[i];
    std::size_t length = lead < 0x80           ? 1
                         : (lead >> 5) == 0x6  ? 2
                         : (lead >> 4) == 0xE  ? 3
                         : (lead >> 3) == 0x1E ? 4
                                               : 0;
    if (length == 0 || i + length > size) return i;
    for (std::size_t k = 1; k < length; ++k) {
      if ((bytes[i + k] & 0xC0) != 0x80) return i;
    }
    i += length;
  }
  return size;
}

std::optional<JsonProblem> unbalanced_brackets(std::string_view text) {
  int depth = 0;
  bool in_string = false;
  bool closed = false;  // the top-level value has ended
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      if (c == '"') in_string = false;
      continue;
    }
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
    if (closed) return JsonProblem{i, "unexpected content after the JSON document"};
    if (c == '"') in_string = true;
    if (c == '{' || c == '[') ++depth;
    if (c == '}' || c == ']') {
      if (--depth < 0) return JsonProblem{i, "unmatched closing bracket"};
      closed = depth == 0;
    }
  }
  if (depth > 0 || in_string) {
    return JsonProblem{text.size(),
                       "unexpected end of input: the JSON is truncated (unclosed { or [)"};
  }
  return std::nullopt;
}

std::size_t last_opening_quote(std::string_view text) {
  bool in_string = false;
  std::size_t opened = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string && c == '\\') {
      ++i;
    } else if (c == '"') {
      in_string = !in_string;
      if (in_string) opened = i;
    }
  }
  return opened;
}

}  // namespace dualpipe::trace
