// JSON diagnosis: where a JSON text that the parser rejected goes wrong, for error messages that
// name a byte offset. Each function scans the whole text; they run only after a parse failed.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace dualpipe::trace {

// A problem found in a JSON text, at a byte offset.
struct JsonProblem {
  std::size_t offset = 0;
  std::string what;
};

// Offset of the first byte that does not start or continue a valid UTF-8 sequence; text.size()
// when all of it is valid.
std::size_t first_invalid_utf8(std::string_view text);

// Offset of the quote that opens the last string, i.e. the unterminated one in a truncated text.
std::size_t last_opening_quote(std::string_view text);

// Brackets and braces that do not pair up: the document cut short, a closing one too many, or
// content after the document's end. nullopt when they pair up.
std::optional<JsonProblem> unbalanced_brackets(std::string_view text);

}  // namespace dualpipe::trace
