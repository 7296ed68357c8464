#include "command_line.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <stdexcept>
#include <thread>

#include "text_file.h"

namespace dualpipe::apps {
namespace {

// What a tool named "tool" did when parse_and_run ran `run` in a child process with standard
// output on `stdout_path`: its exit code and standard error.
struct Outcome {
  int exit_code = -1;
  std::string err;
};

Outcome run_tool(const std::function<int()>& run, const char* stdout_path = "/dev/null") {
  const std::string err_path = (std::filesystem::temp_directory_path() /
                                ("command_line_" + std::to_string(::getpid()) + ".err"))
                                   .string();
  const pid_t child = ::fork();
  if (child == 0) {
    ::dup2(::open(stdout_path, O_WRONLY), STDOUT_FILENO);
    ::dup2(::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600), STDERR_FILENO);
    CLI::App app{"test", "tool"};
    char name[] = "tool";
    char* argv[] = {name, nullptr};
    ::_exit(parse_and_run(app, 1, argv, run));
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  Outcome outcome{WIFEXITED(status) ? WEXITSTATUS(status) : -1,
                  testing_support::read_text_file(err_path)};
  std::remove(err_path.c_str());
  return outcome;
}

TEST(ParseAndRun, PrintsTheFirstLineOfAnErrorWithControlBytesEscaped) {
  const Outcome outcome =
      run_tool([]() -> int { throw std::runtime_error("bad\x1b[31m file\nbacktrace"); });
  EXPECT_EQ(outcome.exit_code, 2);
  EXPECT_EQ(outcome.err, "tool: bad\\x1b[31m file\n");
}

TEST(ParseAndRun, FailsWhenStandardOutputCannotBeWritten) {
  const Outcome outcome = run_tool(
      [] {
        std::cout << "a summary" << std::endl;
        return 0;
      },
      "/dev/full");
  EXPECT_EQ(outcome.exit_code, 2);
  EXPECT_EQ(outcome.err.rfind("tool: standard output: cannot write: ", 0), 0u) << outcome.err;
}

TEST(ParseAndRun, TurnsAnExceptionEscapingAnotherThreadIntoOneLine) {
  const Outcome outcome = run_tool([] {
    std::thread([] {
      throw std::runtime_error("connection closed by peer\nat gloo.cc:12");
    }).join();
    return 0;
  });
  EXPECT_EQ(outcome.exit_code, 2);
  EXPECT_EQ(outcome.err, "tool: connection closed by peer\n");
}

}  // namespace
}  // namespace dualpipe::apps
