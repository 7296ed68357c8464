#include "held_stderr.h"

#include <unistd.h>

namespace dualpipe::apps {

HeldStderr::HeldStderr() {
  std::fflush(stderr);
  held_ = std::tmpfile();
  if (held_ == nullptr) return;  // nothing to hold into: standard error stays as it is
  saved_fd_ = ::dup(STDERR_FILENO);
  if (saved_fd_ < 0 || ::dup2(::fileno(held_), STDERR_FILENO) < 0) restore();
}

HeldStderr::~HeldStderr() { restore(); }

void HeldStderr::restore() {
  std::fflush(stderr);
  if (saved_fd_ >= 0) {
    ::dup2(saved_fd_, STDERR_FILENO);
    ::close(saved_fd_);
    saved_fd_ = -1;
  }
  if (held_ != nullptr) {
    std::fclose(held_);
    held_ = nullptr;
  }
}

void HeldStderr::release() {
  std::fflush(stderr);
  if (saved_fd_ >= 0 && held_ != nullptr) {
    std::rewind(held_);
    char chunk[4096];
    for (std::size_t got; (got = std::fread(chunk, 1, sizeof chunk, held_)) > 0;) {
      ::dup2(saved_fd_, STDERR_FILENO);
      (void)!::write(STDERR_FILENO, chunk, got);
    }
  }
  restore();
}

}  // namespace dualpipe::apps
