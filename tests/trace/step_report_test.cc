#include "dualpipe/trace/step_report.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include "synthetic_trace.h"

namespace dualpipe::trace {
namespace {

using testing::SyntheticTrace;

testing::AnalysedRun late_peer() {
  SyntheticTrace rank0(0);
  rank0.compute(0, 100, -5).receive(1, 100, 1100, 90);
  SyntheticTrace rank1(1);
  rank1.compute(0, 100, -5).send(0, 1000, 200, 990);
  return testing::analyse({rank0, rank1});
}

TEST(RankStepJson, GivesWaitTransferAndAnAttributionThatSumsToTheSpan) {
  const auto run = late_peer();
  const std::string json = "{" + rank_step_json(run.timelines, run.analysis, 0) + "}";
  simdjson::dom::parser parser;
  const simdjson::dom::element rank = parser.parse(json);
  EXPECT_DOUBLE_EQ(double(rank["span_ms"]), 1.2);
  EXPECT_DOUBLE_EQ(double(rank["wait_ms"]), 0.9);
  EXPECT_DOUBLE_EQ(double(rank["transfer_ms"]), 0.2);
  const simdjson::dom::element a = rank["attribution"];
  EXPECT_DOUBLE_EQ(double(a["compute_ms"]) + double(a["transfer_ms"]) + double(a["wait_ms"]) +
                       double(a["host_gap_ms"]) + double(a["other_ms"]),
                   1.2);
  EXPECT_EQ(int64_t(a["waits"].at(0)["peer"]), 1);
  EXPECT_DOUBLE_EQ(double(a["waits"].at(0)["ms"]), 0.9);
  EXPECT_DOUBLE_EQ(double(a["waits"].at(0)["peer_activity"].at(0)["ms"]), 0.89);
}

TEST(StepJson, HasClocksMatchingTheCriticalPathAndNoPredictionWithoutActions) {
  const auto run = late_peer();
  const std::string json =
      "{" + step_json(run.timelines, run.analysis, earliest_gpu_start(run.timelines)) + "}";
  simdjson::dom::parser parser;
  const simdjson::dom::element root = parser.parse(json);
  EXPECT_DOUBLE_EQ(double(root["step_ms"]), 1.2);
  EXPECT_FALSE(bool(root["clocks"]["estimated"]));
  EXPECT_EQ(int64_t(root["matching"]["exchanges"]), 1);
  EXPECT_DOUBLE_EQ(double(root["critical_path"]["length_ms"]), 1.2);
  const simdjson::dom::element last = root["critical_path"]["steps"].at(3);
  EXPECT_EQ(int64_t(last.at(0)), 0);          // rank
  EXPECT_DOUBLE_EQ(double(last.at(2)), 1.2);  // end_ms
  EXPECT_EQ(std::string_view(last.at(3)), "transfer");
  const int64_t what = last.at(4);
  EXPECT_EQ(std::string_view(root["critical_path"]["what"].at(static_cast<std::size_t>(what))),
            "transfer ncclDevKernel_SendRecv(ncclDevKernelArgsStorage<4096ul>)");
  EXPECT_TRUE(root["prediction"].is_null());
}

TEST(RankStepText, SaysWhomTheRankWaitedForAndWhatItDid) {
  const auto run = late_peer();
  const std::string text = rank_step_text(run.timelines, run.analysis, 0);
  EXPECT_NE(text.find("step 1.200 ms: compute 0.100, transfer 0.200, waiting 0.900"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("waiting for rank 1: 0.900 ms; meanwhile it did host gap"), std::string::npos)
      << text;
}

TEST(StepText, PrintsTheClocksAndTheCriticalPath) {
  const auto run = late_peer();
  const std::string text =
      step_text(run.timelines, run.analysis, earliest_gpu_start(run.timelines));
  EXPECT_NE(text.find("clocks: one clock (1 matched exchanges agree with it)"), std::string::npos)
      << text;
  EXPECT_NE(text.find("critical path 1.200 ms in 4 steps"), std::string::npos) << text;
  EXPECT_NE(text.find("0.100 .. 0.990 ms  rank 1  host gap"), std::string::npos) << text;
}

}  // namespace
}  // namespace dualpipe::trace
