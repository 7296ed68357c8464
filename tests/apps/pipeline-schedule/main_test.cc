// Runs the pipeline-schedule tool as a process: outputs, exit codes and one-line errors.
#include <gtest/gtest.h>
#include <signal.h>
#include <simdjson.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "help_text.h"
#include "tool_test.h"

namespace {

namespace fs = std::filesystem;

using testing_support::read_text_file;
using testing_support::ToolOutcome;

class PipelineScheduleTool : public testing_support::ToolTest {
 protected:
  PipelineScheduleTool() : ToolTest(PIPELINE_SCHEDULE_BINARY) {}

  // Expects exit code 2 and one stderr line containing `expected`.
  void expect_usage_error(const std::string& arguments, const std::string& expected) const {
    const ToolOutcome outcome = run(arguments);
    EXPECT_EQ(outcome.exit_code, 2) << arguments;
    EXPECT_NE(outcome.err.find(expected), std::string::npos) << outcome.err;
    EXPECT_EQ(outcome.err.find('\n'), outcome.err.size() - 1) << "not one line: " << outcome.err;
  }
};

TEST_F(PipelineScheduleTool, HelpGroupsTheOptionsAndShowsTheirDefaults) {
  const ToolOutcome outcome = run("--help");
  ASSERT_EQ(outcome.exit_code, 0) << outcome.err;
  for (const char* expected : {"\nSchedule:\n", "\nCosts:\n", "\nOutput:\n"}) {
    EXPECT_NE(outcome.out.find(expected), std::string::npos) << expected << "\n" << outcome.out;
  }
  for (const char* value : {"1", "B/2", "F+B", "2"}) {
    EXPECT_TRUE(testing_support::shows_default(outcome.out, value)) << value << "\n" << outcome.out;
  }
}

TEST_F(PipelineScheduleTool, PrintsATextSummaryByDefault) {
  const ToolOutcome outcome = run("--schedule 1f1b --ranks 4 --microbatches 8");
  EXPECT_EQ(outcome.exit_code, 0) << outcome.err;
  EXPECT_EQ(
      outcome.out.rfind("schedule 1f1b: 4 ranks, 4 stages, 8 micro-batches\nstep time 33 ", 0), 0u)
      << outcome.out;
}

TEST_F(PipelineScheduleTool, PrintsAJsonSummaryWithTheGivenCosts) {
  const ToolOutcome outcome =
      run("--schedule dualpipe --ranks 8 --microbatches 20 --cost-f 1 --cost-b 2 --cost-w 1 "
          "--cost-fb 2.5 --cost-p2p 0 --summary json");
  ASSERT_EQ(outcome.exit_code, 0) << outcome.err;
  simdjson::dom::parser parser;
  const simdjson::dom::element root = parser.parse(outcome.out);
  const simdjson::dom::array bubbles = root["bubble_per_rank"];
  double largest = 0.0;
  for (double bubble : bubbles) largest = std::max(largest, bubble);
  EXPECT_DOUBLE_EQ(largest, (8 / 2 - 1) * (2.5 + 2 - 3 * 1));  // the published DualPipe bubble
  EXPECT_EQ(int64_t(root["peak_activations_per_rank"].at(0)), 9);
}

TEST_F(PipelineScheduleTool, WritesEveryRequestedFileWhole) {
  const ToolOutcome outcome =
      run("--schedule dualpipev --ranks 4 --microbatches 10 --json s.json --csv s.csv --svg s.svg "
          "--html s.html --chrome-trace t.json");
  ASSERT_EQ(outcome.exit_code, 0) << outcome.err;
  EXPECT_EQ(read_text_file(dir_ / "s.json").rfind("{\"schedule\":\"dualpipev\"", 0), 0u);
  EXPECT_NE(read_text_file(dir_ / "s.csv").find("0F0"), std::string::npos);
  EXPECT_EQ(read_text_file(dir_ / "s.svg").rfind("<svg ", 0), 0u);
  EXPECT_EQ(read_text_file(dir_ / "s.html").rfind("<!DOCTYPE html>", 0), 0u);
  simdjson::dom::parser parser;
  EXPECT_EQ(parser.parse(read_text_file(dir_ / "t.json"))["traceEvents"].error(),
            simdjson::SUCCESS);
  for (const auto& entry : fs::directory_iterator(dir_)) {
    EXPECT_EQ(entry.path().string().find(".tmp."), std::string::npos) << entry.path();
  }
}

TEST_F(PipelineScheduleTool, AddsCommunicationOnRequest) {
  EXPECT_EQ(run("--schedule 1f1b --ranks 2 --microbatches 2 --json plain.json").exit_code, 0);
  EXPECT_EQ(read_text_file(dir_ / "plain.json").find("SEND_F"), std::string::npos);
  EXPECT_EQ(
      run("--schedule 1f1b --ranks 2 --microbatches 2 --with-comm --json comm.json").exit_code, 0);
  EXPECT_NE(read_text_file(dir_ / "comm.json").find("SEND_F"), std::string::npos);
}

TEST_F(PipelineScheduleTool, WritesAnOutputToStandardOutputInsteadOfTheSummary) {
  const ToolOutcome outcome = run("--schedule gpipe --ranks 2 --microbatches 2 --json -");
  ASSERT_EQ(outcome.exit_code, 0) << outcome.err;
  EXPECT_EQ(outcome.out.rfind("{\"schedule\":\"gpipe\"", 0), 0u) << outcome.out;
}

TEST_F(PipelineScheduleTool, ComparesSchedulesOneRowEach) {
  const ToolOutcome outcome =
      run("--compare 1f1b,zb1p,dualpipe,dualpipev,interleaved-1f1b,gpipe --ranks 4 "
          "--microbatches 16 --virtual-stages 2");
  ASSERT_EQ(outcome.exit_code, 0) << outcome.err;
  int rows = 0;
  for (std::size_t at = outcome.out.find("\n| "); at != std::string::npos;
       at = outcome.out.find("\n| ", at + 1)) {
    ++rows;
  }
  EXPECT_EQ(rows, 6) << outcome.out;
}

TEST_F(PipelineScheduleTool, ReadsACostProfile) {
  std::ofstream(dir_ / "p.yaml") << "time_unit: ms\nstage: {forward: 2, backward: 4}\n";
  const ToolOutcome outcome = run("--schedule 1f1b --ranks 2 --microbatches 2 --costs p.yaml");
  ASSERT_EQ(outcome.exit_code, 0) << outcome.err;
  EXPECT_NE(outcome.out.find("step time 18 ms"), std::string::npos) << outcome.out;
}

TEST_F(PipelineScheduleTool, RejectsOddRanksForDualPipe) {
  expect_usage_error("--schedule dualpipe --ranks 3 --microbatches 12", "dualpipe");
}

TEST_F(PipelineScheduleTool, RejectsTooFewMicrobatches) {
  expect_usage_error("--schedule dualpipev --ranks 4 --microbatches 6", "dualpipev");
}

TEST_F(PipelineScheduleTool, RejectsAnUnknownSchedule) {
  expect_usage_error("--schedule 2f2b --ranks 4 --microbatches 8", "unknown schedule '2f2b'");
}

TEST_F(PipelineScheduleTool, RejectsNegativeCosts) {
  expect_usage_error("--schedule 1f1b --ranks 4 --microbatches 8 --cost-f -1", "--cost-f");
}

TEST_F(PipelineScheduleTool, RejectsAMalformedProfileNamingItsPosition) {
  std::ofstream(dir_ / "bad.yaml") << "stage: {forward: 1, backward: x}\n";
  expect_usage_error("--schedule 1f1b --ranks 4 --microbatches 8 --costs bad.yaml",
                     "bad.yaml:1:31: stage.backward: expected a number, got 'x'");
}

TEST_F(PipelineScheduleTool, RejectsAMissingProfile) {
  expect_usage_error("--schedule 1f1b --ranks 4 --microbatches 8 --costs none.yaml", "none.yaml");
}

TEST_F(PipelineScheduleTool, RejectsInvalidCombinations) {
  expect_usage_error("--ranks 4 --microbatches 8", "--schedule");
  expect_usage_error("--schedule 1f1b --compare 1f1b,zb1p --ranks 4 --microbatches 8",
                     "exactly one of");
  expect_usage_error("--compare 1f1b,zb1p --ranks 4 --microbatches 8 --svg x.svg", "--svg");
  expect_usage_error("--schedule 1f1b --ranks 4 --microbatches 8 --costs p.yaml --cost-f 1",
                     "exclude");
  expect_usage_error("--schedule 1f1b --ranks 4 --microbatches 8 --virtual-stages 3",
                     "interleaved-1f1b");
  expect_usage_error("--schedule 1f1b --ranks 4 --microbatches 8 --json - --csv -",
                     "standard output");
  expect_usage_error("--schedule 1f1b --ranks 4 --microbatches 8 --summary yaml", "--summary");
  expect_usage_error("--schedule 1f1b --microbatches 8", "--ranks");
  expect_usage_error("--schedule 1f1b --ranks 4 --microbatches 8 --colour", "colour");
}

TEST_F(PipelineScheduleTool, LeavesNoFileBehindWhenAnOutputCannotBeWritten) {
  expect_usage_error("--schedule 1f1b --ranks 2 --microbatches 2 --svg missing/dir/s.svg",
                     "missing/dir/s.svg: cannot write");
  EXPECT_FALSE(fs::exists(dir_ / "missing"));
}

TEST_F(PipelineScheduleTool, ReplacesEveryOutputOrNone) {
  std::ofstream(dir_ / "out.json") << "old";
  expect_usage_error("--schedule 1f1b --ranks 2 --microbatches 2 --json out.json --svg nodir/x.svg",
                     "nodir/x.svg: cannot write");
  EXPECT_EQ(read_text_file(dir_ / "out.json"), "old");
}

TEST_F(PipelineScheduleTool, WritesThroughLinksKeepingTheModeAndIntoFifosInPlace) {
  std::ofstream(dir_ / "real.json") << "old";
  fs::permissions(dir_ / "real.json", fs::perms::owner_read | fs::perms::owner_write);
  fs::create_symlink("real.json", dir_ / "link.json");
  ASSERT_EQ(::mkfifo(path("pipe.csv").c_str(), 0600), 0);
  std::string piped;
  std::thread reader([&] { piped = read_text_file(dir_ / "pipe.csv"); });
  const ToolOutcome outcome =
      run("--schedule 1f1b --ranks 2 --microbatches 2 --json link.json --csv pipe.csv");
  reader.join();
  ASSERT_EQ(outcome.exit_code, 0) << outcome.err;
  EXPECT_TRUE(fs::is_symlink(dir_ / "link.json"));
  EXPECT_EQ(read_text_file(dir_ / "real.json").rfind("{\"schedule\":\"1f1b\"", 0), 0u);
  EXPECT_EQ(fs::status(dir_ / "real.json").permissions(),
            fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_EQ(fs::status(dir_ / "pipe.csv").type(), fs::file_type::fifo);
  EXPECT_NE(piped.find("0F0"), std::string::npos) << piped;
}

TEST_F(PipelineScheduleTool, FailsWhenAnOutputOrStandardOutputIsFull) {
  expect_usage_error("--schedule 1f1b --ranks 2 --microbatches 2 --json /dev/full",
                     "/dev/full: cannot write: No space left on device");
  const std::string command = std::string("'") + PIPELINE_SCHEDULE_BINARY +
                              "' --schedule 1f1b --ranks 2 --microbatches 2 >/dev/full 2>'" +
                              path("err") + "'";
  const int status = std::system(command.c_str());
  EXPECT_EQ(WEXITSTATUS(status), 2);
  EXPECT_EQ(read_text_file(dir_ / "err"),
            "pipeline-schedule: standard output: cannot write: No space left on device\n");
}

// The tool writes out.json's temporary, then waits to open the FIFO (no reader): SIGTERM then must
// leave neither the temporary nor out.json.
TEST_F(PipelineScheduleTool, RemovesItsTemporaryWhenTerminated) {
  ASSERT_EQ(::mkfifo(path("pipe.csv").c_str(), 0600), 0);
  const pid_t tool = ::fork();
  if (tool == 0) {
    ::chdir(dir_.c_str());
    ::execl(PIPELINE_SCHEDULE_BINARY, PIPELINE_SCHEDULE_BINARY, "--schedule", "1f1b", "--ranks",
            "2", "--microbatches", "2", "--json", "out.json", "--csv", "pipe.csv", nullptr);
    ::_exit(127);
  }
  const auto temporary_exists = [&] {
    for (const auto& entry : fs::directory_iterator(dir_))
      if (entry.path().string().find("out.json.tmp.") != std::string::npos) return true;
    return false;
  };
  for (int wait = 0; wait < 3000 && !temporary_exists(); ++wait)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_TRUE(temporary_exists());
  ::kill(tool, SIGTERM);
  int status = 0;
  ::waitpid(tool, &status, 0);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM) << status;
  EXPECT_FALSE(temporary_exists());
  EXPECT_FALSE(fs::exists(dir_ / "out.json"));
}

TEST_F(PipelineScheduleTool, RefusesInputsThatAreNotRegularTextFiles) {
  ASSERT_EQ(::mkfifo(path("fifo.yaml").c_str(), 0600), 0);
  expect_usage_error("--schedule 1f1b --ranks 2 --microbatches 2 --costs fifo.yaml",
                     "fifo.yaml: not a regular file (a FIFO)");
  expect_usage_error("--schedule 1f1b --ranks 2 --microbatches 2 --costs /dev/zero",
                     "/dev/zero: not a regular file (a character device)");
  std::ofstream(dir_ / "zeros.yaml") << std::string(1 << 20, '\0');
  expect_usage_error("--schedule 1f1b --ranks 2 --microbatches 2 --costs zeros.yaml",
                     "zeros.yaml: line 1, column 1: a NUL byte: not a text file");
}

TEST_F(PipelineScheduleTool, RefusesCostsWhoseSumsCouldOverflowNamingTheField) {
  std::ofstream(dir_ / "huge.yaml") << "stage: {forward: 1e308, backward: 2}\n";
  expect_usage_error("--schedule 1f1b --ranks 2 --microbatches 2 --costs huge.yaml",
                     "huge.yaml:1:18: stage.forward: 1e308 is out of range");
  std::ofstream(dir_ / "slow.yaml")
      << "stage: {forward: 1, backward: 2}\np2p: {bandwidth: 1e-300, message_bytes: 1000}\n";
  expect_usage_error("--schedule 1f1b --ranks 2 --microbatches 2 --costs slow.yaml",
                     "slow.yaml:2:18: p2p.bandwidth: a message of 1000 bytes would take more than");
  std::ofstream(dir_ / "unit.yaml")
      << "time_unit: " << std::string(5'000'000, 'u') << "\nstage: {forward: 1, backward: 2}\n";
  expect_usage_error("--schedule 1f1b --ranks 2 --microbatches 2 --costs unit.yaml",
                     "unit.yaml:1:12: time_unit: at most 32 characters, got 5000000");
  expect_usage_error("--schedule 1f1b --ranks 2 --microbatches 2 --cost-f 1e308",
                     "--cost-f: expected a number from 0 to 1e+15, got '1e308'");
}

TEST_F(PipelineScheduleTool, RefusesADrawingBeyondItsSizeBeforeDrawing) {
  expect_usage_error("--schedule 1f1b --ranks 2048 --microbatches 2048 --svg big.svg",
                     "--svg: the schedule has 8388608 actions; drawings hold at most 262144");
  EXPECT_FALSE(fs::exists(dir_ / "big.svg"));
}

TEST_F(PipelineScheduleTool, RefusesNumbersOutsideEveryNumericFlagsDomain) {
  const std::string base = "--schedule interleaved-1f1b --ranks 2 --microbatches 4 ";
  for (const char* flag : {"--ranks", "--microbatches", "--virtual-stages", "--cost-f", "--cost-b",
                           "--cost-w", "--cost-fb", "--cost-p2p"}) {
    for (const char* value : {"nan", "-1", "1e400", "99999999999999999999"}) {
      expect_usage_error(base + flag + " " + value, std::string(flag) + ": expected ");
    }
  }
}

}  // namespace
