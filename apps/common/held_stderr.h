// HeldStderr: standard error held back while LibTorch's rendezvous runs, so that its multi-line
// c10d and glog messages do not reach the terminal when the tool reports the failure in one line.
#pragma once

#include <cstdio>

namespace dualpipe::apps {

// Redirects file descriptor 2 to a temporary file while it lives.
class HeldStderr {
 public:
  HeldStderr();
  // Restores standard error, dropping what was held (the caller reports the failure itself).
  ~HeldStderr();
  HeldStderr(const HeldStderr&) = delete;
  HeldStderr& operator=(const HeldStderr&) = delete;

  // Restores standard error and writes to it what was held (the work succeeded: its warnings
  // matter).
  void release();

 private:
  void restore();

  int saved_fd_ = -1;          // the real standard error while held
  std::FILE* held_ = nullptr;  // what was written meanwhile
};

// Runs `work` with standard error held: its text is shown when `work` returns and dropped when it
// throws.
template <typename Work>
auto with_stderr_held(Work&& work) {
  HeldStderr held;
  auto result = work();
  held.release();
  return result;
}

}  // namespace dualpipe::apps
