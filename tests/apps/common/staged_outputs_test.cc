#include "staged_outputs.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "text_file.h"

namespace dualpipe::apps {
namespace {

namespace fs = std::filesystem;
using testing_support::read_text_file;

class StagedOutputsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("staged_outputs_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  void write(const std::string& name, const std::string& text) const {
    std::ofstream(path(name)) << text;
  }
  // Names in the directory that look like temporaries.
  int temporaries() const {
    int count = 0;
    for (const auto& entry : fs::directory_iterator(dir_))
      count += entry.path().filename().string().find(".tmp.") != std::string::npos ? 1 : 0;
    return count;
  }

  fs::path dir_;
};

TEST_F(StagedOutputsTest, ReplacesEveryFileOrNone) {
  write("a.json", "old a");
  StagedOutputs outputs;
  outputs.add(path("a.json"), "new a");
  outputs.add(path("missing/b.svg"), "b");
  EXPECT_THROW(outputs.commit(), std::runtime_error);
  EXPECT_EQ(read_text_file(path("a.json")), "old a");
  EXPECT_EQ(temporaries(), 0);

  StagedOutputs both;
  both.add(path("a.json"), "new a");
  both.add(path("b.svg"), "b");
  both.commit();
  EXPECT_EQ(read_text_file(path("a.json")), "new a");
  EXPECT_EQ(read_text_file(path("b.svg")), "b");
  EXPECT_EQ(temporaries(), 0);
}

TEST_F(StagedOutputsTest, LeavesNoFileWhenAWriterThrows) {
  StagedOutputs outputs;
  outputs.add(path("a.json"), "a");
  outputs.add(path("b.json"), [](const StagedOutputs::Sink& sink) {
    sink("half");
    throw std::runtime_error("drawing failed");
  });
  EXPECT_THROW(outputs.commit(), std::runtime_error);
  EXPECT_FALSE(fs::exists(path("a.json")));
  EXPECT_EQ(temporaries(), 0);
}

TEST_F(StagedOutputsTest, KeepsTheModeOfTheFileItReplaces) {
  write("secret.json", "old");
  ::chmod(path("secret.json").c_str(), 0600);
  StagedOutputs outputs;
  outputs.add(path("secret.json"), "new");
  outputs.commit();
  EXPECT_EQ(read_text_file(path("secret.json")), "new");
  EXPECT_EQ(fs::status(path("secret.json")).permissions(),
            fs::perms::owner_read | fs::perms::owner_write);
}

TEST_F(StagedOutputsTest, WritesThroughASymbolicLink) {
  write("real.json", "old");
  fs::create_symlink("real.json", path("link.json"));
  fs::create_symlink(path("not_yet.json"), path("dangling.json"));
  StagedOutputs outputs;
  outputs.add(path("link.json"), "new");
  outputs.add(path("dangling.json"), "created");
  outputs.commit();
  EXPECT_TRUE(fs::is_symlink(path("link.json")));
  EXPECT_EQ(read_text_file(path("real.json")), "new");
  EXPECT_TRUE(fs::is_symlink(path("dangling.json")));
  EXPECT_EQ(read_text_file(path("not_yet.json")), "created");
}

// A FIFO is written in place (a reader drains it), never replaced by a regular file; the same path
// is taken for character devices and standard output.
TEST_F(StagedOutputsTest, WritesAFifoInPlace) {
  ASSERT_EQ(::mkfifo(path("pipe").c_str(), 0600), 0);
  std::string received;
  std::thread reader([&] { received = read_text_file(path("pipe")); });
  StagedOutputs outputs;
  outputs.add(path("pipe"), "through the pipe");
  outputs.add(path("file.json"), "a file");
  outputs.commit();
  reader.join();
  EXPECT_EQ(received, "through the pipe");
  EXPECT_EQ(fs::status(path("pipe")).type(), fs::file_type::fifo);
  EXPECT_EQ(read_text_file(path("file.json")), "a file");
}

// As root a device node can be made here: it must stay a device (for others the FIFO test above
// covers the same path).
TEST_F(StagedOutputsTest, WritesADeviceInPlace) {
  if (::mknod(path("null").c_str(), S_IFCHR | 0666, makedev(1, 3)) != 0) {
    GTEST_SKIP() << "making a device node needs root";
  }
  StagedOutputs outputs;
  outputs.add(path("null"), "discarded");
  outputs.commit();
  EXPECT_EQ(fs::status(path("null")).type(), fs::file_type::character);
}

TEST_F(StagedOutputsTest, RefusesADirectoryAndTwoOutputsOfOneFile) {
  fs::create_directories(path("folder"));
  StagedOutputs into_folder;
  into_folder.add(path("folder"), "x");
  EXPECT_THROW(into_folder.commit(), std::runtime_error);
  StagedOutputs twice;
  twice.add(path("a.json"), "1");
  twice.add(path("a.json"), "2");
  EXPECT_THROW(twice.commit(), std::runtime_error);
  EXPECT_FALSE(fs::exists(path("a.json")));
  EXPECT_EQ(temporaries(), 0);
}

TEST_F(StagedOutputsTest, RemovesTheTemporariesOfAStageThatIsNotCommitted) {
  {
    StagedOutputs outputs;
    outputs.add(path("a.json"), "a");
    outputs.stage();
    EXPECT_EQ(temporaries(), 1);
  }
  EXPECT_EQ(temporaries(), 0);
  EXPECT_FALSE(fs::exists(path("a.json")));
}

}  // namespace
}  // namespace dualpipe::apps
