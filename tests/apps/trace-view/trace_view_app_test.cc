// End-to-end tests of the trace-view command line: outputs, --compare-schedule and bad input.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "dualpipe/schedule/communication.h"
#include "dualpipe/schedule/generators.h"
#include "dualpipe/schedule/schedule_io.h"
#include "dualpipe/schedule/simulator.h"
#include "dualpipe/trace/schedule_trace_writer.h"
#include "help_text.h"
#include "synthetic_trace.h"
#include "tool_test.h"
#include "trace_test_data.h"

namespace dualpipe::trace {
namespace {

namespace fs = std::filesystem;

const std::string kTraceView = std::string(DUALPIPE_BINARY_DIR) + "/apps/trace-view/trace-view";

using testing_support::read_text_file;
using testing_support::ToolOutcome;

class TraceViewApp : public testing_support::ToolTest {
 protected:
  // The trace tests also build without the tools (DUALPIPE_BUILD_APPS=OFF).
  TraceViewApp() : ToolTest(kTraceView, /*skip_when_missing=*/true) {}
};

TEST_F(TraceViewApp, HelpGroupsTheOptionsAndShowsTheirDefaults) {
  const ToolOutcome outcome = run("--help");
  ASSERT_EQ(outcome.exit_code, 0) << outcome.err;
  for (const char* expected : {"\nAnalysis:\n", "\nOutput:\n"}) {
    EXPECT_NE(outcome.out.find(expected), std::string::npos) << expected << "\n" << outcome.out;
  }
  for (const char* value : {"-"}) {
    EXPECT_TRUE(testing_support::shows_default(outcome.out, value)) << value << "\n" << outcome.out;
  }
}

TEST_F(TraceViewApp, WritesSummaryAndDrawings) {
  const ToolOutcome result = run(
      testing::data_path("two_streams.json") + " --summary json -o " + (dir_ / "s.json").string() +
      " --svg " + (dir_ / "t.svg").string() + " --html " + (dir_ / "t.html").string() +
      " --perfetto " + (dir_ / "t.perfetto.json").string() + " --window 0:0.25");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(read_text_file(dir_ / "s.json").find("\"window_ms\": [0, 0.25]"), std::string::npos);
  EXPECT_EQ(read_text_file(dir_ / "t.svg").rfind("<svg", 0), 0u);
  EXPECT_NE(read_text_file(dir_ / "t.html").find("const DATA = "), std::string::npos);
  EXPECT_NE(read_text_file(dir_ / "t.perfetto.json").find("communication overlap"),
            std::string::npos);
}

TEST_F(TraceViewApp, ComparesAMeasuredRunWithItsPlannedSchedule) {
  const schedule::Schedule planned = schedule::generate_dualpipe(4, 8);
  schedule::TimedSchedule timed =
      schedule::simulate(schedule::with_communication(planned),
                         schedule::uniform_cost_model(1.0, 2.0, 1.0, 2.5))
          .timed;
  std::string traces;
  for (int rank = 0; rank < planned.num_ranks; ++rank) {
    traces +=
        write("rank" + std::to_string(rank) + ".json", schedule_rank_trace_json(timed, rank)) + " ";
  }
  const std::string plan = write("plan.json", schedule::write_schedule_json(planned));
  const ToolOutcome result =
      run(traces + "--compare-schedule " + plan + " --svg " + (dir_ / "m.svg").string());
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("schedule comparison"), std::string::npos) << result.out;
  EXPECT_EQ(result.out.find(" no\n"), std::string::npos)
      << result.out;  // every rank's order matches
  EXPECT_TRUE(fs::exists(dir_ / "m.compare.svg"));
}

TEST_F(TraceViewApp, CompareWithoutToolkitAnnotationsIsAnError) {
  const std::string plan =
      write("plan.json", schedule::write_schedule_json(schedule::generate_1f1b(2, 4)));
  const ToolOutcome result =
      run(testing::data_path("two_streams.json") + " --compare-schedule " + plan);
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("no pipeline annotations"), std::string::npos) << result.err;
}

TEST_F(TraceViewApp, BadInputIsOneLineWithTheByteOffsetAndExitCode2) {
  const std::string broken = write("broken.json", R"({"traceEvents": [{"ph": "X", "ts": tru)");
  for (const std::string& input :
       {broken, write("text.json", "not json"), testing::data_path("nope.json")}) {
    const ToolOutcome result = run(input + " --svg " + (dir_ / "never.svg").string());
    EXPECT_EQ(result.exit_code, 2) << input;
    const bool missing = input.find("nope.json") != std::string::npos;
    EXPECT_NE(result.err.find(missing ? "nope.json: cannot open" : "byte "), std::string::npos)
        << result.err;
    EXPECT_EQ(result.err.find('\n'), result.err.size() - 1) << result.err;  // one line
    EXPECT_FALSE(fs::exists(dir_ / "never.svg"));
  }
}

// One line on standard error naming `expected`, exit code 2, and no output file written.
void expect_refused(const ToolOutcome& result, const std::string& expected) {
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_NE(result.err.find(expected), std::string::npos) << result.err;
  EXPECT_EQ(result.err.find('\n'), result.err.size() - 1) << result.err;
}

TEST_F(TraceViewApp, SummaryJsonSaysWhereEachRanksStepWent) {
  testing::SyntheticTrace rank0(0);
  rank0.compute(0, 100, -5).receive(1, 100, 1100, 90);
  testing::SyntheticTrace rank1(1);
  rank1.compute(0, 100, -5).send(0, 1000, 200, 990);
  const ToolOutcome result = run(write("r0.json", rank0.json()) + " " +
                                 write("r1.json", rank1.json()) + " --summary json");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find(R"("span_ms": 1.2, "wait_ms": 0.9, "transfer_ms": 0.2)"),
            std::string::npos)
      << result.out;
  EXPECT_NE(
      result.out.find(R"("attribution": {"compute_ms": 0.1, "transfer_ms": 0.2, "wait_ms": 0.9)"),
      std::string::npos)
      << result.out;
  EXPECT_NE(result.out.find(R"("critical_path": {"length_ms": 1.2)"), std::string::npos);
  const ToolOutcome text = run(path("r0.json") + " " + path("r1.json"));
  EXPECT_NE(text.out.find("waiting for rank 1: 0.900 ms"), std::string::npos) << text.out;
}

TEST_F(TraceViewApp, WindowBoundsMustBeFiniteMilliseconds) {
  for (const char* window : {"nan:nan", "nan:inf", "0:inf", "-inf:", "1e300:"}) {
    const ToolOutcome result = run(testing::data_path("two_streams.json") + " --window " + window);
    expect_refused(result, "--window");
  }
}

TEST_F(TraceViewApp, KernelWithoutDurationIsRefused) {
  const std::string trace = write(
      "nodur.json", R"({"traceEvents": [{"ph": "X", "cat": "kernel", "name": "k", "ts": 1}]})");
  expect_refused(run(trace), "no \"dur\"");
}

TEST_F(TraceViewApp, ADirectoryIsOneClearLine) {
  expect_refused(run(dir_.string()), "(a directory)");
}

TEST_F(TraceViewApp, LongKernelNamesAndPathologicalPatternsFinish) {
  testing::SyntheticTrace trace(0, 1);
  trace.compute(0, 10, -1, std::string(40000, 'a'));
  const ToolOutcome result =
      run(write("long.json", trace.json()) + " --comm-regex '(a|aa)*b' --summary json");
  EXPECT_EQ(result.exit_code, 0) << result.err;
}

TEST_F(TraceViewApp, ComparingWithAPlanForMoreRanksThanTracesIsRefused) {
  const schedule::Schedule measured_plan = schedule::generate_dualpipe(2, 4);
  const schedule::TimedSchedule timed =
      schedule::simulate(schedule::with_communication(measured_plan),
                         schedule::uniform_cost_model(1.0, 2.0, 1.0, 2.5))
          .timed;
  const std::string traces = write("r0.json", schedule_rank_trace_json(timed, 0)) + " " +
                             write("r1.json", schedule_rank_trace_json(timed, 1));
  const std::string plan =
      write("plan.json", schedule::write_schedule_json(schedule::generate_dualpipe(4, 8)));
  expect_refused(run(traces + " --compare-schedule " + plan), "plans 4 ranks");
}

TEST_F(TraceViewApp, TracesOfDifferentRunsAreRefused) {
  testing::SyntheticTrace two(0, 2);
  two.compute(0, 10, -1);
  testing::SyntheticTrace four(1, 4);
  four.compute(0, 10, -1);
  expect_refused(run(write("a.json", two.json()) + " " + write("b.json", four.json())),
                 "different runs");
  testing::SyntheticTrace later(1, 2);
  later.compute(3.6e9, 10, -1);
  expect_refused(run(path("a.json") + " " + write("c.json", later.json())), "different runs");
}

TEST_F(TraceViewApp, ReplacesEveryOutputOrNone) {
  const std::string summary = write("out.json", "old");
  const ToolOutcome result =
      run(testing::data_path("two_streams.json") + " -o " + summary + " --svg " +
          (dir_ / "t.svg").string() + " --perfetto " + (dir_ / "nodir" / "p.json").string());
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("p.json: cannot write"), std::string::npos) << result.err;
  EXPECT_EQ(read_text_file(summary), "old");
  EXPECT_FALSE(fs::exists(dir_ / "t.svg"));
}

TEST_F(TraceViewApp, BadFlagsExitWith2) {
  EXPECT_EQ(run(testing::data_path("two_streams.json") + " --summary yaml").exit_code, 2);
  EXPECT_EQ(run(testing::data_path("two_streams.json") + " --window 5").exit_code, 2);
  EXPECT_EQ(run(testing::data_path("two_streams.json") + " --comm-regex '('").exit_code, 2);
}

}  // namespace
}  // namespace dualpipe::trace
