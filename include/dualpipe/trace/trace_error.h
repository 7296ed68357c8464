// TraceFormatError: the one exception the trace reader throws for input a user can fix.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

namespace dualpipe::trace {

// A malformed or unsupported trace. what() is one printable line
// "<source>: byte <offset>: <what was wrong or expected>".
class TraceFormatError : public std::runtime_error {
 public:
  TraceFormatError(const std::string& source, std::size_t byte_offset, const std::string& problem);

  const std::string& source() const { return source_; }
  std::size_t byte_offset() const { return byte_offset_; }

 private:
  std::string source_;
  std::size_t byte_offset_;
};

}  // namespace dualpipe::trace
