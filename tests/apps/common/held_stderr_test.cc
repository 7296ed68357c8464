#include "held_stderr.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <stdexcept>

#include "text_file.h"

namespace dualpipe::apps {
namespace {

// Runs `body` with standard error on a file; returns what reached it.
template <typename Body>
std::string stderr_of(Body body) {
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("held_stderr_" + std::to_string(::getpid()) + ".err"))
                               .string();
  std::fflush(stderr);
  const int saved = ::dup(STDERR_FILENO);
  const int file = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ::dup2(file, STDERR_FILENO);
  ::close(file);
  body();
  std::fflush(stderr);
  ::dup2(saved, STDERR_FILENO);
  ::close(saved);
  const std::string text = testing_support::read_text_file(path);
  std::remove(path.c_str());
  return text;
}

TEST(WithStderrHeld, ShowsWhatWorkThatSucceededWrote) {
  EXPECT_EQ(stderr_of([] {
              EXPECT_EQ(with_stderr_held([] {
                          std::fprintf(stderr, "[W socket.cpp] a warning\n");
                          return 7;
                        }),
                        7);
            }),
            "[W socket.cpp] a warning\n");
}

TEST(WithStderrHeld, DropsWhatFailedWorkWrote) {
  EXPECT_EQ(stderr_of([] {
              EXPECT_THROW(with_stderr_held([]() -> int {
                             std::fprintf(stderr, "[E socket.cpp] line 1\n[E socket.cpp] line 2\n");
                             throw std::runtime_error("address in use");
                           }),
                           std::runtime_error);
              std::fprintf(stderr, "after\n");
            }),
            "after\n");
}

}  // namespace
}  // namespace dualpipe::apps
