#include "input_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

namespace dualpipe::apps {
namespace {

namespace fs = std::filesystem;

class InputFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("input_file_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& bytes) const {
    std::ofstream((dir_ / name).string(), std::ios::binary) << bytes;
    return (dir_ / name).string();
  }

  fs::path dir_;
};

// The message InputFile throws for `path`, or "" when it reads the file.
std::string refusal(const std::string& path, InputLimits limits = {}) {
  try {
    const InputFile file(path, limits);
  } catch (const std::runtime_error& error) {
    return error.what();
  }
  return "";
}

TEST_F(InputFileTest, ReadsARegularFileWhole) {
  const InputFile file(write("a.csv", "1,2\n3,4\n"));
  EXPECT_EQ(file.text(), "1,2\n3,4\n");
  const InputFile empty(write("empty.csv", ""));
  EXPECT_EQ(empty.text(), "");
}

TEST_F(InputFileTest, RefusesWhatIsNotARegularFileWithoutWaiting) {
  const std::string fifo = (dir_ / "fifo").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);  // no writer: opening it to read would block
  EXPECT_EQ(refusal(fifo), fifo + ": not a regular file (a FIFO)");
  EXPECT_EQ(refusal("/dev/zero"), "/dev/zero: not a regular file (a character device)");
  EXPECT_EQ(refusal(dir_.string()), dir_.string() + ": not a regular file (a directory)");
  EXPECT_EQ(refusal((dir_ / "none").string()).rfind((dir_ / "none").string() + ": cannot open", 0),
            0u);
  EXPECT_THROW(check_input_file(fifo, 100), std::runtime_error);
}

TEST_F(InputFileTest, RefusesAFileLargerThanTheReaderAllowsBeforeReadingIt) {
  const std::string big = write("big.csv", std::string(2048, '1'));
  EXPECT_EQ(refusal(big, {1024, true}), big + ": 2 KiB is more than the 1 KiB this input may have");
  EXPECT_THROW(check_input_file(big, 1024), std::runtime_error);
  EXPECT_NO_THROW(check_input_file(big, 2048));
}

TEST_F(InputFileTest, StopsATextInputAtItsFirstNulByte) {
  const std::string zeros = write("zeros.yaml", std::string(1 << 20, '\0'));
  EXPECT_EQ(refusal(zeros), zeros + ": line 1, column 1: a NUL byte: not a text file");
  const std::string late = write("late.yaml", std::string("a: 1\nbb") + '\0' + "c\n");
  EXPECT_EQ(refusal(late), late + ": line 2, column 3: a NUL byte: not a text file");
  EXPECT_EQ(refusal(late, {1 << 20, /*text=*/false}), "");  // binary formats may hold NUL bytes
}

// '-' reads standard input, bounded like a file; a pipe there is read as it comes.
TEST_F(InputFileTest, ReadsStandardInputWithinTheLimit) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const int saved = ::dup(STDIN_FILENO);
  ::dup2(fds[0], STDIN_FILENO);
  ::close(fds[0]);
  ASSERT_EQ(::write(fds[1], "0123456789", 10), 10);
  ::close(fds[1]);
  EXPECT_EQ(refusal("-", {4, true}), "standard input: more than the 4 B this input may have");
  ::dup2(saved, STDIN_FILENO);
  ::close(saved);
}

}  // namespace
}  // namespace dualpipe::apps
