// ToolTest: a fixture that runs one built command-line tool as a process, in a fresh directory of
// its own, and reads what the tool printed and wrote.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>

#include "text_file.h"

namespace testing_support {

// What one run of the tool gave: its exit code (-1 when a signal ended it) and its two streams.
struct ToolOutcome {
  int exit_code = -1;
  std::string out;
  std::string err;
};

class ToolTest : public ::testing::Test {
 protected:
  // `binary`: the tool's path. A missing tool fails each test, or skips it with
  // `skip_when_missing` (for test binaries that may be built without the tools).
  explicit ToolTest(std::string binary, bool skip_when_missing = false)
      : binary_(std::move(binary)), skip_when_missing_(skip_when_missing) {}

  // A fresh directory per test, named after the tool, the process and the test.
  void SetUp() override {
    if (!std::filesystem::exists(binary_)) {
      if (skip_when_missing_) GTEST_SKIP() << binary_ << " is not built";
      FAIL() << binary_ << " is not built";
    }
    dir_ = std::filesystem::temp_directory_path() /
           (std::filesystem::path(binary_).filename().string() + "_test_" +
            std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  // `name` inside the test's directory.
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  // Writes `content` to `name` in the test's directory; returns its path.
  std::string write(const std::string& name, const std::string& content) const {
    std::ofstream(path(name), std::ios::binary) << content;
    return path(name);
  }

  // Runs the tool with `arguments` (shell words) in the test's directory, with `environment`
  // ("NAME=value ...") set for it.
  ToolOutcome run(const std::string& arguments, const std::string& environment = "") const {
    const std::string command = "cd '" + dir_.string() + "' && " + environment + " '" + binary_ +
                                "' " + arguments + " >tool.stdout 2>tool.stderr";
    const int status = std::system(command.c_str());
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, read_text_file(dir_ / "tool.stdout"),
            read_text_file(dir_ / "tool.stderr")};
  }

  std::filesystem::path dir_;

 private:
  std::string binary_;
  bool skip_when_missing_;
};

}  // namespace testing_support
