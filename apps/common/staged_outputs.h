// Writing several output files all or nothing: each to a temporary beside it, renamed only when all
// were written.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dualpipe::apps {

// Collects outputs by path; "-" means standard output.
class StagedOutputs {
 public:
  // Receives a file's text piece by piece.
  using Sink = std::function<void(std::string_view)>;
  // Produces a file's text, piece by piece, into the sink it is given.
  using Writer = std::function<void(const Sink&)>;

  // Queues `content` for `path`.
  void add(std::string path, std::string content);
  // Queues the text that `writer` streams for `path`; the writer runs during commit.
  void add(std::string path, Writer writer);

  // Writes every file to a temporary, renames them all into place, then writes the "-" outputs to
  // standard output. Throws std::runtime_error naming the path when a file cannot be written (and
  // lets a writer's exception through); then none of its files is left behind.
  void commit() const;

 private:
  std::vector<std::pair<std::string, Writer>> outputs_;
};

}  // namespace dualpipe::apps
