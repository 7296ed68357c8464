// Memory estimates: work whose inputs, weights or activations cannot fit in this machine's memory
// is refused before LibTorch tries to allocate it (and reports a size overflow or an allocator
// failure instead).
#pragma once

#include <string>

namespace dualpipe::apps {

// Bytes of physical memory of this machine.
double physical_memory_bytes();

// Throws std::invalid_argument "WHAT needs at least about X (estimate), more than the Y of memory
// of this machine" when `bytes` exceeds `available_bytes` (or is not finite).
void refuse_beyond_memory(double bytes, const std::string& what,
                          double available_bytes = physical_memory_bytes());

}  // namespace dualpipe::apps
