#include "temporary_files.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "staged_outputs.h"

namespace dualpipe::apps {
namespace {

namespace fs = std::filesystem;

// A child process stages a file whose writer is interrupted by `signal_number`: the child must
// end by that signal and leave no temporary.
void expect_no_temporary_after(int signal_number) {
  const fs::path dir =
      fs::temp_directory_path() /
      ("temporary_files_" + std::to_string(::getpid()) + "_" + std::to_string(signal_number));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const pid_t child = ::fork();
  if (child == 0) {
    StagedOutputs outputs;
    outputs.add((dir / "big.json").string(), [&](const StagedOutputs::Sink& sink) {
      sink("a large output, half written when the signal comes");
      ::raise(signal_number);
      sink("never written");
    });
    outputs.commit();
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == signal_number) << status;
  EXPECT_TRUE(fs::is_empty(dir)) << fs::directory_iterator(dir)->path();
  fs::remove_all(dir);
}

TEST(RemoveOnSignal, RemovesAStagedTemporaryOnSigterm) { expect_no_temporary_after(SIGTERM); }

TEST(RemoveOnSignal, RemovesAStagedTemporaryOnSigint) { expect_no_temporary_after(SIGINT); }

TEST(RemoveOnSignal, ForgetsAPathThatWasKept) {
  const fs::path kept = fs::temp_directory_path() / ("kept_" + std::to_string(::getpid()));
  std::ofstream(kept) << "x";
  const pid_t child = ::fork();
  if (child == 0) {
    remove_on_signal(kept.string());
    keep_on_signal(kept.string());
    ::raise(SIGTERM);
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFSIGNALED(status));
  EXPECT_TRUE(fs::exists(kept));
  fs::remove(kept);
}

}  // namespace
}  // namespace dualpipe::apps
