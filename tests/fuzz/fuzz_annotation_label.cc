// Fuzz target: the profiler annotation-label parser must never crash, and every label it accepts
// must print back to itself.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "dualpipe/schedule/annotation.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string label(reinterpret_cast<const char*>(data), size);
  const auto action = dualpipe::schedule::parse_annotation_label(label);
  if (action && dualpipe::schedule::parse_annotation_label(
                    dualpipe::schedule::annotation_label(*action)) != action) {
    std::abort();
  }
  return 0;
}
