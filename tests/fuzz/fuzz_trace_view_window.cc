// Fuzz target: trace-view's --window flag must either give a window that starts before it ends,
// or throw std::invalid_argument — never crash, hang or overflow.
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "window_flag.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const dualpipe::trace::TimeWindow window = dualpipe::apps::parse_window_flag(text, 1'000'000);
    if (window && window->end <= window->start) std::abort();
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
