// What the JSON readers (load files, plan files) add to simdjson: the line and column of a syntax
// error, and refusing objects with a key given twice. Internal header.
#pragma once

#include <simdjson.h>

#include <string_view>

namespace dualpipe::eplb::detail {

// Throws ParseError "line L, column C: invalid JSON: <simdjson's reason>" for `error`, which
// simdjson's DOM parser reported for `text`. The position is where simdjson's On-Demand parser
// stops on the same text, or, for what it rejects before (invalid UTF-8, a control character in a
// string, a string never closed), the first such byte.
[[noreturn]] void throw_json_syntax_error(std::string_view text, simdjson::error_code error);

// Throws ParseError "<path>: the key \"k\" appears twice" for the first object in `root` (depth
// first) that holds a key more than once; paths are written as $, $.key and $[index].
void check_unique_keys(simdjson::dom::element root);

}  // namespace dualpipe::eplb::detail
