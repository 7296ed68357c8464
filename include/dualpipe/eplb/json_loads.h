// JSON load files: [[...]] (layers x experts), [[[...]]] (steps x layers x experts), or an object
// whose "loads" (or SGLang's "logical_count") member is one of those.
#pragma once

#include <string>
#include <string_view>

#include "dualpipe/eplb/load_matrix.h"

namespace dualpipe::eplb {

// Parses JSON text (simdjson). Throws ParseError: for malformed or truncated JSON with the parser's
// reason, otherwise naming the element path (e.g. "loads[2][7]") and what was expected there.
LoadSeries parse_json_loads(std::string_view text);

// JSON text that parse_json_loads reads back exactly: {"loads": ...}, 2-D for one step, else 3-D.
std::string format_json_loads(const LoadSeries& series);

}  // namespace dualpipe::eplb
