// The --window flag of trace-view: "START_MS:END_MS" (either side may be empty) as an absolute
// time window.
#pragma once

#include <string>

#include "dualpipe/trace/statistics.h"

namespace dualpipe::apps {

// Window bounds beyond this many milliseconds (about 31 years) are not times of a trace.
inline constexpr double kLargestWindowMs = 1e12;

// `text` ("10:25.5", ":40", "5:"; empty for no window) as the window [origin + START, origin +
// END) in ns. Throws std::invalid_argument "--window: '...' ..." for anything else, for bounds that
// are not finite or beyond kLargestWindowMs, and for an end not after the start.
trace::TimeWindow parse_window_flag(const std::string& text, trace::TimeNs origin);

}  // namespace dualpipe::apps
