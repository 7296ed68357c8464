// InputFile: the bytes of a file the app reads: a regular file (memory-mapped) or '-' (standard
// input), never more than the reader allows, and for text formats never a NUL byte.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace dualpipe::apps {

// What a reader accepts.
struct InputLimits {
  std::size_t max_bytes = std::size_t{1} << 30;  // larger inputs are refused before reading
  bool text = true;  // text formats: the first NUL byte ends reading with an error
};

// Checks, without reading it, that `path` is a regular file of at most `max_bytes` (for readers
// that load files themselves, e.g. compressed traces). Throws like InputFile.
void check_input_file(const std::string& path, std::size_t max_bytes);

// A whole input file, read-only, for as long as the object lives.
class InputFile {
 public:
  // Maps `path`, or reads standard input for "-". Throws std::runtime_error with one line naming
  // the path: "cannot open (reason)", "not a regular file (a FIFO)", "4 GiB is more than the 1 GiB
  // this input may have", "line 1, column 1: a NUL byte: not a text file".
  explicit InputFile(const std::string& path, InputLimits limits = {});
  ~InputFile();
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  std::string_view text() const { return text_; }

 private:
  void read_stream(int fd, const std::string& name, const InputLimits& limits);

  std::string_view text_;
  void* mapping_ = nullptr;  // set when text_ is a memory mapping
  std::string buffer_;       // holds the bytes otherwise
};

}  // namespace dualpipe::apps
