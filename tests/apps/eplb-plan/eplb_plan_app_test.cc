// Runs the built eplb-plan binary: outputs, formats, and the one-line errors (exit code 2, no
// output file) for every kind of bad input.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <string>

#include "dualpipe/eplb/plan_formats.h"
#include "help_text.h"
#include "tool_test.h"

namespace {

namespace fs = std::filesystem;

using testing_support::read_text_file;
using testing_support::ToolOutcome;

class EplbPlanApp : public testing_support::ToolTest {
 protected:
  EplbPlanApp() : ToolTest(EPLB_PLAN_BINARY) {}

  // Runs with the README parameters into out.json and expects a one-line error mentioning `needle`,
  // exit code 2, and no output file.
  void expect_rejected(
      const std::string& loads_file, const std::string& needle,
      const std::string& parameters = "--replicas 16 --groups 4 --nodes 2 --gpus 8") {
    const ToolOutcome r = run(loads_file + " " + parameters + " -o " + path("out.json") +
                              " --svg " + path("out.svg"));
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_FALSE(fs::exists(path("out.json")));
    EXPECT_FALSE(fs::exists(path("out.svg")));
  }
};

const char* const kReadmeCsv =
    "90,132,40,61,104,165,39,4,73,56,183,86\n20,107,104,64,19,197,187,157,172,86,16,27\n";
const char* const kReadmeParameters = "--replicas 16 --groups 4 --nodes 2 --gpus 8";

TEST_F(EplbPlanApp, HelpGroupsTheOptionsAndShowsTheirDefaults) {
  const ToolOutcome outcome = run("--help");
  ASSERT_EQ(outcome.exit_code, 0) << outcome.err;
  for (const char* expected : {"\nProblem:\n", "\nPolicy:\n", "\nOutput:\n"}) {
    EXPECT_NE(outcome.out.find(expected), std::string::npos) << expected << "\n" << outcome.out;
  }
  for (const char* value : {"balanced", "sum", "json"}) {
    EXPECT_TRUE(testing_support::shows_default(outcome.out, value)) << value << "\n" << outcome.out;
  }
}

TEST_F(EplbPlanApp, ReproducesTheReadmeExampleWithTheDeepseekPolicy) {
  const std::string loads = write("loads.csv", kReadmeCsv);
  const ToolOutcome r = run(loads + " " + kReadmeParameters + " --policy deepseek --format sglang");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(dualpipe::eplb::parse_plan_phy2log(r.out),
            (std::vector<std::vector<int>>{{5, 6, 5, 7, 8, 4, 3, 4, 10, 9, 10, 2, 0, 1, 11, 1},
                                           {7, 10, 6, 8, 6, 11, 8, 9, 2, 4, 5, 1, 5, 0, 3, 1}}));
}

TEST_F(EplbPlanApp, WritesEveryFormatAReportAndAnSvg) {
  const std::string loads = write("loads.csv", kReadmeCsv);
  for (const std::string format : {"json", "yaml", "csv", "sglang", "trtllm"}) {
    const std::string out = path("plan." + format);
    const ToolOutcome r = run(loads + " " + kReadmeParameters + " --format " + format + " -o " +
                              out + " --report json --svg " + path("plan.svg"));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(dualpipe::eplb::parse_plan_phy2log(read_text_file(out)).size(), 2u) << format;
    EXPECT_NE(r.out.find("\"balancedness_after\""), std::string::npos);
    EXPECT_EQ(read_text_file(path("plan.svg")).rfind("<svg", 0), 0u);
  }
}

TEST_F(EplbPlanApp, ReplansFromAPreviousPlanWithinTheMoveCap) {
  const std::string loads = write("loads.csv", kReadmeCsv);
  const std::string shifted =
      write("shifted.csv",
            "9,132,40,61,104,16,39,4,73,56,183,186\n200,107,104,64,19,19,187,157,17,86,16,27\n");
  ASSERT_EQ(run(loads + " " + kReadmeParameters + " -o " + path("old.json")).exit_code, 0);
  const ToolOutcome r = run(shifted + " " + kReadmeParameters + " --previous " + path("old.json") +
                            " --max-moves 3 -o " + path("new.json") + " --report text");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("replicas moved: "), std::string::npos) << r.out;
  const auto old_plan = dualpipe::eplb::parse_plan_phy2log(read_text_file(path("old.json")));
  const auto new_plan = dualpipe::eplb::parse_plan_phy2log(read_text_file(path("new.json")));
  int moved = 0;
  for (std::size_t l = 0; l < old_plan.size(); ++l) {
    for (std::size_t s = 0; s < old_plan[l].size(); ++s) moved += old_plan[l][s] != new_plan[l][s];
  }
  EXPECT_LE(moved, 3);
}

TEST_F(EplbPlanApp, ReplaysATimeSeries) {
  std::string csv;
  for (int step = 0; step < 6; ++step) csv += std::string(kReadmeCsv) + "\n";
  const std::string loads = write("series.csv", csv);
  const ToolOutcome r =
      run("replay " + loads + " " + kReadmeParameters + " --interval 2 --report json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"windows\": 2"), std::string::npos) << r.out;
}

std::string test_data(const std::string& name) {
  return std::string(DUALPIPE_SOURCE_DIR) + "/tests/data/eplb/" + name;
}

TEST_F(EplbPlanApp, ReadsSglangExpertDistributionDumpsThroughTheLibTorchPlugin) {
#ifndef EPLB_PLAN_HAS_PT_PLUGIN
  GTEST_SKIP() << "built without LibTorch: no .pt plugin";
#endif
  // sglang_dump.pt holds logical_count = these two steps (int32 [2, 2, 4]).
  const std::string csv = write("same.csv", "5,0,3,9\n1,1,7,2\n\n4,2,2,8\n0,3,6,1\n");
  const std::string parameters =
      " --replicas 6 --groups 1 --nodes 1 --gpus 2 --policy deepseek --format csv";
  for (const std::string aggregate : {"sum", "window:1"}) {
    const ToolOutcome from_pt =
        run(test_data("sglang_dump.pt") + parameters + " --aggregate " + aggregate);
    const ToolOutcome from_csv = run(csv + parameters + " --aggregate " + aggregate);
    ASSERT_EQ(from_pt.exit_code, 0) << from_pt.err;
    ASSERT_EQ(from_csv.exit_code, 0) << from_csv.err;
    EXPECT_EQ(from_pt.out, from_csv.out) << aggregate;
    // window:1 plans on the second step alone; the reference's rebalance_experts gives this
    // phy2log.
    if (aggregate == "window:1") {
      EXPECT_EQ(from_pt.out, "3,0,2,3,1,0\n2,1,3,2,1,0\n");
    }
  }
}

TEST_F(EplbPlanApp, RejectsPtFilesThatAreNotExpertDistributionDumps) {
#ifndef EPLB_PLAN_HAS_PT_PLUGIN
  GTEST_SKIP() << "built without LibTorch: no .pt plugin";
#endif
  expect_rejected(write("garbage.pt", "not a zip archive"),
                  "garbage.pt: not a readable torch.save file");
  expect_rejected(
      test_data("sglang_dump_without_logical_count.pt"),
      "sglang_dump_without_logical_count.pt: expected a dict with a \"logical_count\" tensor");
  expect_rejected(test_data("sglang_dump_negative.pt"),
                  "sglang_dump_negative.pt: logical_count[0][1][2]: negative load");
}

TEST_F(EplbPlanApp, SaysHowToReadPtFilesWhenTheLibTorchPluginIsAbsent) {
  fs::create_directories(path("no_plugins"));
  const ToolOutcome r =
      run(test_data("sglang_dump.pt") + " " + kReadmeParameters + " -o " + path("out.json"),
          "DUALPIPE_PLUGIN_DIR=" + path("no_plugins"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "eplb-plan: " + test_data("sglang_dump.pt") +
                       ": reading .pt needs the LibTorch plugin (libdualpipe_eplb_pt.so); rebuild "
                       "with LibTorch or "
                       "convert to .npy\n");
  EXPECT_FALSE(fs::exists(path("out.json")));
}

TEST_F(EplbPlanApp, RejectsEveryKindOfBadLoadFileWithOneLineNamingIt) {
  expect_rejected(write("empty.csv", ""), "empty.csv: line 1, column 1: no loads found");
  expect_rejected(write("ragged.csv", "1,2,3\n4,5\n"),
                  "ragged.csv: line 2, column 1: 2 values; expected 3");
  expect_rejected(write("nan.csv", "1,nan\n"), "nan.csv: line 1, column 3: NaN");
  expect_rejected(write("inf.csv", "1,inf\n"), "inf.csv: line 1, column 3: infinity");
  expect_rejected(write("negative.csv", "1,-2\n"), "negative.csv: line 1, column 3: negative load");
  expect_rejected(write("huge.csv", "1,1e39\n"),
                  "huge.csv: line 1, column 3: load exceeds the float32 range");
  expect_rejected(write("overflow.csv", "1,1e999\n"),
                  "overflow.csv: line 1, column 3: '1e999' is out of range");
  expect_rejected(write("text.csv", "hello world\n"),
                  "text.csv: line 1, column 1: expected a number");
  expect_rejected(write("garbage.bin", std::string("\x7f\x45\x4c\x46\x02\x01\x00\xff\xfe", 9)),
                  "garbage.bin: ");
  expect_rejected(write("truncated.json", "{\"loads\": [[1, 2], [3"),
                  "truncated.json: line 1, column 21: invalid JSON");
  expect_rejected(write("types.json", "[[1, true]]"),
                  "types.json: $[0][1]: expected a number, found a boolean");
  expect_rejected(write("types.yaml", "loads:\n  - [1, {a: 1}]\n"),
                  "types.yaml: line 2, column 9: expected a number");
  expect_rejected(write("bad.npy", std::string("\x93NUMPY\x01\x00\x10\x00{'descr': '<f4'", 25)),
                  "bad.npy: ");
  expect_rejected(path("missing.csv"), "missing.csv: cannot open");
  fs::create_directories(path("folder.csv"));
  expect_rejected(path("folder.csv"), "folder.csv: not a regular file (a directory)");
}

TEST_F(EplbPlanApp, NamesTheLineAndColumnOfJsonSyntaxErrors) {
  expect_rejected(write("comma.json", "[[1, 2],\n [3 4]]"),
                  "comma.json: line 2, column 5: invalid JSON");
  expect_rejected(
      write("plan.csv", kReadmeCsv), "plan.json: line 1, column 11: invalid JSON",
      std::string(kReadmeParameters) + " --previous " + write("plan.json", "{\"phy2log\"]"));
}

TEST_F(EplbPlanApp, SkipsALeadingUtf8ByteOrderMark) {
  const std::string plain = write("plain.csv", kReadmeCsv);
  const std::string marked = write("marked.csv", std::string("\xEF\xBB\xBF") + kReadmeCsv);
  const std::string parameters = std::string(" ") + kReadmeParameters + " --format csv";
  const ToolOutcome a = run(plain + parameters), b = run(marked + parameters);
  ASSERT_EQ(b.exit_code, 0) << b.err;
  EXPECT_EQ(a.out, b.out);
}

TEST_F(EplbPlanApp, ShowsNonPrintableBytesEscapedAndStopsAtTheFirstNulByte) {
  expect_rejected(write("control.csv", "1,\x01\x7fx\n"),
                  "control.csv: line 1, column 3: expected a number, found '\\x01\\x7fx'");
  expect_rejected(write("nul.csv", std::string("1,2\n3,\0"
                                               "4\n",
                                               8)),
                  "nul.csv: line 2, column 3: a NUL byte; expected text");
}

TEST_F(EplbPlanApp, RefusesKeysGivenTwice) {
  expect_rejected(write("twice.json", "{\"loads\": [[1, 2]], \"loads\": [[3, 4]]}"),
                  "twice.json: $: the key \"loads\" appears twice");
  expect_rejected(write("twice.yaml", "loads: [[1, 2]]\nloads: [[3, 4]]\n"),
                  "twice.yaml: line 2, column 1: the key \"loads\" appears twice");
}

TEST_F(EplbPlanApp, RefusesAnNpyHeaderWithoutItsClosingBrace) {
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), ";
  header.append((64 - (10 + header.size() + 1) % 64) % 64, ' ');
  header += '\n';
  const std::string bytes = std::string("\x93NUMPY\x01\x00", 8) + static_cast<char>(header.size()) +
                            std::string(1, '\0') + header + std::string(8, '\0');
  expect_rejected(write("open.npy", bytes), "open.npy: npy header: not a dictionary closed by '}'");
}

TEST_F(EplbPlanApp, RefusesFlagValuesOutsideTheirDomainNamingTheFlag) {
  const std::string loads = write("loads.csv", kReadmeCsv);
  const std::string previous = write("previous.csv",
                                     "5,6,5,7,8,4,3,4,10,9,10,2,0,1,11,1\n"
                                     "7,10,6,8,6,11,8,9,2,4,5,1,5,0,3,1\n");
  const std::string replan = std::string(kReadmeParameters) + " --previous " + previous;
  expect_rejected(loads, "--min-gain must be in [0, 1) (got nan)", replan + " --min-gain nan");
  expect_rejected(loads, "--max-moves must be at least 0 (got -1)", replan + " --max-moves -1");
  expect_rejected(loads, "--first-layer must be between 0 and 2147483646 for 2 layers (got -1)",
                  std::string(kReadmeParameters) + " --format trtllm --first-layer -1");
  expect_rejected(loads,
                  "--first-layer must be between 0 and 2147483646 for 2 layers (got 2147483647)",
                  std::string(kReadmeParameters) + " --format trtllm --first-layer 2147483647");
}

TEST_F(EplbPlanApp, RefusesReplicasThatCannotFitInMemoryBeforePlanning) {
  expect_rejected(write("loads.csv", kReadmeCsv),
                  "--replicas (2000000000) for 2 layers needs about 320.0 GB of memory to plan",
                  "--replicas 2000000000 --groups 4 --nodes 2 --gpus 8");
}

TEST_F(EplbPlanApp, ReadsLoadsFromAPipe) {
  const std::string loads = write("loads.csv", kReadmeCsv);
  const ToolOutcome piped = run("/dev/stdin " + std::string(kReadmeParameters) +
                                " --policy deepseek --format csv < " + loads);
  ASSERT_EQ(piped.exit_code, 0) << piped.err;
  EXPECT_EQ(piped.out,
            run(loads + " " + kReadmeParameters + " --policy deepseek --format csv").out);
}

TEST_F(EplbPlanApp, LeavesNoFileWhenAnOutputCannotBeWritten) {
  // The plan is written (to a temporary) before the SVG fails; the temporary must go too.
  const std::string loads = write("loads.csv", kReadmeCsv);
  const ToolOutcome r = run(loads + " " + kReadmeParameters + " -o " + path("plan.json") +
                            " --svg " + path("missing_dir/plan.svg"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "eplb-plan: " + path("missing_dir/plan.svg") +
                       ": cannot write: No such file or directory\n");
  for (const auto& entry : fs::directory_iterator(dir_)) {
    EXPECT_TRUE(entry.path().filename() == "loads.csv" ||
                entry.path().filename() == "tool.stdout" ||
                entry.path().filename() == "tool.stderr")
        << entry.path();
  }
}

TEST_F(EplbPlanApp, RejectsImpossibleParametersNamingThem) {
  const std::string loads = write("loads.csv", kReadmeCsv);
  expect_rejected(loads, "--replicas (15) must be a multiple of --gpus (8)",
                  "--replicas 15 --groups 4 --nodes 2 --gpus 8");
  expect_rejected(loads, "--groups (5) must divide the 12 experts",
                  "--replicas 16 --groups 5 --nodes 1 --gpus 8");
  expect_rejected(loads, "--gpus (8) must be a multiple of --nodes (3)",
                  "--replicas 16 --groups 4 --nodes 3 --gpus 8");
  expect_rejected(loads, "--replicas (8) must be at least the number of experts (12)",
                  "--replicas 8 --groups 4 --nodes 2 --gpus 8");
  expect_rejected(loads, "--replicas must be positive",
                  "--replicas 0 --groups 4 --nodes 2 --gpus 8");
  expect_rejected(loads, "--groups must be positive (got 0)",
                  "--replicas 16 --groups 0 --nodes 2 --gpus 8");
  expect_rejected(loads, "--nodes must be positive (got 0)",
                  "--replicas 16 --groups 4 --nodes 0 --gpus 8");
  expect_rejected(loads, "--gpus must be positive (got 0)",
                  "--replicas 16 --groups 4 --nodes 2 --gpus 0");
  expect_rejected(loads, "--replicas", "--groups 4 --nodes 2 --gpus 8");
  expect_rejected(loads, "--policy 'fast': expected balanced or deepseek",
                  std::string(kReadmeParameters) + " --policy fast");
  expect_rejected(loads, "--format 'xml'", std::string(kReadmeParameters) + " --format xml");
  expect_rejected(loads, "--aggregate 'window:0'",
                  std::string(kReadmeParameters) + " --aggregate window:0");
  expect_rejected(loads, "--max-moves and --min-gain need --previous",
                  std::string(kReadmeParameters) + " --max-moves 3");
  expect_rejected(loads, "prev.json: cannot open",
                  std::string(kReadmeParameters) + " --previous " + path("prev.json"));
}

// Run as root (as CI runs), renaming over /dev/null would replace the device with a file.
TEST_F(EplbPlanApp, WritesADeviceInPlace) {
  if (fs::status("/dev/null").type() != fs::file_type::character) {
    GTEST_SKIP() << "/dev/null is not a device on this machine";
  }
  const std::string loads = write("loads.csv", kReadmeCsv);
  const ToolOutcome r = run(loads + " " + kReadmeParameters + " -o /dev/null");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(fs::status("/dev/null").type(), fs::file_type::character);
}

TEST_F(EplbPlanApp, RefusesALoadsFifoWithoutWaitingForAWriter) {
  ASSERT_EQ(::mkfifo(path("loads.csv").c_str(), 0600), 0);
  expect_rejected(path("loads.csv"), "loads.csv: not a regular file (a FIFO)");
}

}  // namespace
