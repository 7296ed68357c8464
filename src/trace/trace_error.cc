#include "dualpipe/trace/trace_error.h"

namespace dualpipe::trace {

TraceFormatError::TraceFormatError(const std::string& source, std::size_t byte_offset,
                                   const std::string& problem)
    : std::runtime_error(source + ": byte " + std::to_string(byte_offset) + ": " + problem),
      source_(source),
      byte_offset_(byte_offset) {}

}  // namespace dualpipe::trace
