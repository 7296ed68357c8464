// json_quote: a string as a JSON string literal, for every library's JSON writers (schedule files,
// Chrome traces, reports). It lives in `schedule`, the library all the others may include.
#pragma once

#include <string>
#include <string_view>

namespace dualpipe::schedule {

// `text` as a JSON string literal, quotes included: quote and backslash escaped, \n \r \t by name,
// other control characters as \u00XX.
std::string json_quote(std::string_view text);

}  // namespace dualpipe::schedule
