// JSON text helpers shared by the trace writers and readers: string escaping and number printing.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace dualpipe::trace {

// `text` as a JSON string literal, quotes included (control characters as \u00XX).
std::string json_quote(std::string_view text);

// Decodes the content of a JSON string literal (without its quotes): \" \\ \/ \b \f \n \r \t and
// \uXXXX (surrogate pairs too) become UTF-8. Returns nullopt and sets `bad_offset` (relative to
// `raw`) for an invalid escape.
std::optional<std::string> json_unescape(std::string_view raw, std::size_t& bad_offset);

// `value` printed with at most `decimals` digits after the point and no trailing zeros
// ("12.5", "3", "-0.001"); non-finite values print as 0 (JSON has no NaN).
std::string json_number(double value, int decimals = 3);

}  // namespace dualpipe::trace
