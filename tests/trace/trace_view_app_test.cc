// End-to-end tests of the trace-view command line: outputs, --compare-schedule and bad input.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "dualpipe/schedule/communication.h"
#include "dualpipe/schedule/generators.h"
#include "dualpipe/schedule/schedule_io.h"
#include "dualpipe/schedule/simulator.h"
#include "dualpipe/trace/schedule_trace_writer.h"
#include "trace_test_data.h"

namespace dualpipe::trace {
namespace {

namespace fs = std::filesystem;

const std::string kTraceView = std::string(DUALPIPE_BINARY_DIR) + "/apps/trace-view/trace-view";

struct CommandResult {
  int exit_code = 0;
  std::string out;
  std::string err;
};

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

class TraceViewApp : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(kTraceView)) GTEST_SKIP() << "trace-view is not built";
    dir_ = fs::temp_directory_path() / ("trace_view_app_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  CommandResult run(const std::string& arguments) {
    const std::string command = kTraceView + " " + arguments + " >" + (dir_ / "out").string() +
                                " 2>" + (dir_ / "err").string();
    CommandResult result;
    const int status = std::system(command.c_str());
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    result.out = slurp(dir_ / "out");
    result.err = slurp(dir_ / "err");
    return result;
  }
  std::string write(const std::string& name, const std::string& content) {
    std::ofstream(dir_ / name, std::ios::binary) << content;
    return (dir_ / name).string();
  }

  fs::path dir_;
};

TEST_F(TraceViewApp, WritesSummaryAndDrawings) {
  const CommandResult result = run(testing::data_path("two_streams.json") + " --summary json -o " +
                         (dir_ / "s.json").string() + " --svg " + (dir_ / "t.svg").string() +
                         " --html " + (dir_ / "t.html").string() + " --perfetto " +
                         (dir_ / "t.perfetto.json").string() + " --window 0:0.25");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(slurp(dir_ / "s.json").find("\"window_ms\": [0, 0.25]"), std::string::npos);
  EXPECT_EQ(slurp(dir_ / "t.svg").rfind("<svg", 0), 0u);
  EXPECT_NE(slurp(dir_ / "t.html").find("const DATA = "), std::string::npos);
  EXPECT_NE(slurp(dir_ / "t.perfetto.json").find("communication overlap"), std::string::npos);
}

TEST_F(TraceViewApp, ComparesAMeasuredRunWithItsPlannedSchedule) {
  const schedule::Schedule planned = schedule::generate_dualpipe(4, 8);
  schedule::TimedSchedule timed =
      schedule::simulate(schedule::with_communication(planned),
                         schedule::uniform_cost_model(1.0, 2.0, 1.0, 2.5))
          .timed;
  std::string traces;
  for (int rank = 0; rank < planned.num_ranks; ++rank) {
    traces += write("rank" + std::to_string(rank) + ".json", schedule_rank_trace_json(timed, rank)) + " ";
  }
  const std::string plan = write("plan.json", schedule::write_schedule_json(planned));
  const CommandResult result = run(traces + "--compare-schedule " + plan + " --svg " + (dir_ / "m.svg").string());
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("schedule comparison"), std::string::npos) << result.out;
  EXPECT_EQ(result.out.find(" no\n"), std::string::npos) << result.out;  // every rank's order matches
  EXPECT_TRUE(fs::exists(dir_ / "m.compare.svg"));
}

TEST_F(TraceViewApp, CompareWithoutToolkitAnnotationsIsAnError) {
  const std::string plan = write("plan.json", schedule::write_schedule_json(schedule::generate_1f1b(2, 4)));
  const CommandResult result = run(testing::data_path("two_streams.json") + " --compare-schedule " + plan);
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("no pipeline annotations"), std::string::npos) << result.err;
}

TEST_F(TraceViewApp, BadInputIsOneLineWithTheByteOffsetAndExitCode2) {
  const std::string broken = write("broken.json", R"({"traceEvents": [{"ph": "X", "ts": tru)");
  for (const std::string& input : {broken, write("text.json", "not json"), testing::data_path("nope.json")}) {
    const CommandResult result = run(input + " --svg " + (dir_ / "never.svg").string());
    EXPECT_EQ(result.exit_code, 2) << input;
    EXPECT_NE(result.err.find("byte "), std::string::npos) << result.err;
    EXPECT_EQ(result.err.find('\n'), result.err.size() - 1) << result.err;  // one line
    EXPECT_FALSE(fs::exists(dir_ / "never.svg"));
  }
}

TEST_F(TraceViewApp, BadFlagsExitWith2) {
  EXPECT_EQ(run(testing::data_path("two_streams.json") + " --summary yaml").exit_code, 2);
  EXPECT_EQ(run(testing::data_path("two_streams.json") + " --window 5").exit_code, 2);
  EXPECT_EQ(run(testing::data_path("two_streams.json") + " --comm-regex '('").exit_code, 2);
}

}  // namespace
}  // namespace dualpipe::trace
