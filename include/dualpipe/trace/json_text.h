// JSON text helpers shared by the trace writers and readers: string quoting and unescaping, number
// printing.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "dualpipe/schedule/json_quote.h"

namespace dualpipe::trace {

// The schedule library's JSON string quoting, under the name the trace writers use.
using schedule::json_quote;

// Decodes the content of a JSON string literal (without its quotes): \" \\ \/ \b \f \n \r \t and
// \uXXXX (surrogate pairs too) become UTF-8. Returns nullopt and sets `bad_offset` (relative to
// `raw`) for an invalid escape.
std::optional<std::string> json_unescape(std::string_view raw, std::size_t& bad_offset);

// `value` printed with at most `decimals` digits after the point and no trailing zeros
// ("12.5", "3", "-0.001"); non-finite values print as 0 (JSON has no NaN).
std::string json_number(double value, int decimals = 3);

}  // namespace dualpipe::trace
