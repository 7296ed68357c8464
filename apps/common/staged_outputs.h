// Writing the outputs of one command all or nothing. A regular file (new, existing, or reached
// through symbolic links) is written to a temporary beside it and renamed over it only when every
// output was written, keeping an existing file's mode; a device, a FIFO or '-' (standard output)
// is written directly, after every temporary was written and before any rename.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace dualpipe::apps {

// Collects outputs by path; "-" means standard output.
class StagedOutputs {
 public:
  // Receives a file's text piece by piece.
  using Sink = std::function<void(std::string_view)>;
  // Produces a file's text, piece by piece, into the sink it is given.
  using Writer = std::function<void(const Sink&)>;

  StagedOutputs() = default;
  StagedOutputs(const StagedOutputs&) = delete;
  StagedOutputs& operator=(const StagedOutputs&) = delete;
  // Removes the temporaries of a stage() that was not committed.
  ~StagedOutputs();

  // Queues `content` for `path`.
  void add(std::string path, std::string content);
  // Queues the text that `writer` streams for `path`; the writer runs during stage().
  void add(std::string path, Writer writer);

  // Writes every regular file's temporary (removed again on SIGINT, SIGTERM and SIGHUP). Throws
  // std::runtime_error naming the path when one cannot be written (or lets a writer's exception
  // through); then no temporary is left.
  void stage();
  // stage() unless done, then writes the direct outputs and renames the temporaries into place.
  // Throws like stage(); a failed direct output leaves every regular file as it was.
  void commit();

 private:
  // One queued output and where it goes.
  struct Output {
    std::string path;  // as given
    Writer writer;
    std::string target;     // the file written: `path` with symbolic links resolved
    bool direct = false;    // written in place (standard output, device, FIFO)
    std::string temporary;  // beside `target`, while staged
  };

  void remove_temporaries();

  std::vector<Output> outputs_;
  bool staged_ = false;
};

}  // namespace dualpipe::apps
