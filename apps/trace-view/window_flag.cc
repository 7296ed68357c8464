#include "window_flag.h"

#include <cmath>
#include <stdexcept>

namespace dualpipe::apps {

trace::TimeWindow parse_window_flag(const std::string& text, trace::TimeNs origin) {
  if (text.empty()) return std::nullopt;
  const auto refuse = [&text](const std::string& why) {
    throw std::invalid_argument("--window: '" + text + "' " + why);
  };
  const std::size_t colon = text.find(':');
  if (colon == std::string::npos) refuse("is not START_MS:END_MS (milliseconds, e.g. 10:25.5)");
  const auto bound = [&](const std::string& part, double fallback) {
    if (part.empty()) return fallback;
    std::size_t used = 0;
    double value = 0;
    try {
      value = std::stod(part, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != part.size()) refuse("is not START_MS:END_MS (milliseconds, e.g. 10:25.5)");
    if (!std::isfinite(value)) refuse("has a bound that is not a finite number of milliseconds");
    if (std::fabs(value) > kLargestWindowMs) refuse("has a bound beyond 1e12 ms");
    return value;
  };
  const double start_ms = bound(text.substr(0, colon), -kLargestWindowMs);
  const double end_ms = bound(text.substr(colon + 1), kLargestWindowMs);
  if (end_ms <= start_ms) refuse("ends before it starts");
  return trace::Interval{origin + static_cast<trace::TimeNs>(std::llround(start_ms * 1e6)),
                         origin + static_cast<trace::TimeNs>(std::llround(end_ms * 1e6))};
}

}  // namespace dualpipe::apps
