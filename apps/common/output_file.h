// Writing an output file whole or not at all: to a temporary beside it, then renamed over it.
#pragma once

#include <string>

namespace dualpipe::apps {

// Writes `content` to `path` ("-" for standard output). Throws std::runtime_error naming the
// path when it cannot be written; a failed write leaves no partial file behind.
void write_output_file(const std::string& path, const std::string& content);

}  // namespace dualpipe::apps
