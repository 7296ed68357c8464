// InputFile: the bytes of a file the app reads (memory-mapped when it is a regular file, else
// read).
#pragma once

#include <string>
#include <string_view>

namespace dualpipe::apps {

// A whole input file, read-only, for as long as the object lives.
class InputFile {
 public:
  // Maps or reads `path`. Throws std::runtime_error "PATH: cannot open ..." / "PATH: cannot read
  // ...".
  explicit InputFile(const std::string& path);
  ~InputFile();
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  std::string_view text() const { return text_; }

 private:
  std::string_view text_;
  void* mapping_ = nullptr;  // set when text_ is a memory mapping
  std::string buffer_;       // holds the bytes otherwise
};

}  // namespace dualpipe::apps
