// Runs the pipeline-schedule tool as a process: outputs, exit codes and one-line errors.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <filesystem>
#include <fstream>
#include <string>

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
  for (const char* expected :
       {"\nSchedule:\n", "\nCosts:\n", "\nOutput:\n", "=1 ", "=B/2 ", "=F+B ", "=2 "}) {
    EXPECT_NE(outcome.out.find(expected), std::string::npos) << expected << "\n" << outcome.out;
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

}  // namespace
