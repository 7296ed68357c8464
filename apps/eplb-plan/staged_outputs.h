// Writing several output files all or nothing: each to a temporary beside it, renamed only when all
// were written.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace dualpipe::apps {

// Collects (path, content) pairs; "-" means standard output.
class StagedOutputs {
 public:
  void add(std::string path, std::string content) {
    outputs_.emplace_back(std::move(path), std::move(content));
  }
  // Writes every file to a temporary, then renames them all into place and prints the "-" ones.
  // Throws std::runtime_error naming the path when a file cannot be written; then no file of this
  // call is left behind.
  void commit() const;

 private:
  std::vector<std::pair<std::string, std::string>> outputs_;
};

}  // namespace dualpipe::apps
