// Reading the schedule JSON written by dualpipe::schedule::write_schedule_json (simdjson
// On-Demand).
#pragma once

#include <string>

#include "dualpipe/schedule/schedule.h"

namespace dualpipe::trace {

// Parses schedule JSON text. "placement" and "directions" are optional: without them the
// placement is inferred from where each stage's actions appear. Throws std::invalid_argument
// with a one-line message naming what was expected where ("programs[2][5]: expected \"op\"")
// on malformed JSON, unknown ops, negative or out-of-range numbers, or missing keys.
schedule::Schedule read_schedule_json(const std::string& json_text);

}  // namespace dualpipe::trace
