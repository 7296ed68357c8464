#include "dualpipe/trace/summary_report.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>

#include "trace_test_data.h"

namespace dualpipe::trace {
namespace {

std::vector<RankTimeline> two_streams() {
  std::vector<ProfileTrace> traces;
  traces.push_back(testing::parse_file("two_streams.json"));
  return build_timelines(std::move(traces), KernelClassifier());
}

StepAnalysis analysed(std::vector<RankTimeline>& timelines, const TimeWindow& window) {
  StepAnalysis analysis = align_timelines(timelines);
  analyse_step(timelines, window, analysis);
  return analysis;
}

std::string json_of(std::vector<RankTimeline>& timelines, TimeNs origin, const TimeWindow& window) {
  return summary_json(timelines, analysed(timelines, window), origin, window);
}

TEST(SummaryJson, HasTheDocumentedKeysAndFigures) {
  auto timelines = two_streams();
  const std::string json = json_of(timelines, earliest_gpu_start(timelines), std::nullopt);
  simdjson::dom::parser parser;
  const simdjson::dom::element root = parser.parse(json);
  const simdjson::dom::element trace = root["traces"].at(0);
  EXPECT_EQ(std::string_view(trace["file"]).find("two_streams.json") != std::string_view::npos,
            true);
  EXPECT_EQ(int64_t(trace["rank"]), 0);
  EXPECT_DOUBLE_EQ(double(trace["gpu_span_ms"]), 0.31);
  EXPECT_DOUBLE_EQ(double(trace["gpu_busy_ms"]), 0.26);
  EXPECT_DOUBLE_EQ(double(trace["compute_ms"]), 0.2);
  EXPECT_DOUBLE_EQ(double(trace["comm_ms"]), 0.15);
  EXPECT_DOUBLE_EQ(double(trace["overlap_pct"]), 66.67);
  EXPECT_DOUBLE_EQ(double(trace["exposed_comm_ms"]), 0.05);
  EXPECT_EQ(simdjson::dom::array(trace["streams"]).size(), 2u);
  EXPECT_EQ(simdjson::dom::array(trace["annotations"]).size(), 3u);
  EXPECT_EQ(simdjson::dom::array(trace["schedule"]).size(), 0u);
  const simdjson::dom::element attn = trace["annotations"].at(1);
  EXPECT_EQ(std::string_view(attn["name"]), "attn(F)");
  EXPECT_DOUBLE_EQ(double(attn["gpu_start_ms"]), 0.0);
  EXPECT_DOUBLE_EQ(double(attn["gpu_end_ms"]), 0.1);
  EXPECT_DOUBLE_EQ(double(attn["comm_ms"]), 0.0);
}

TEST(SummaryJson, SaysHowMuchOfEachAnnotationsCommunicationWasExposed) {
  auto timelines = two_streams();
  const TimeNs origin = earliest_gpu_start(timelines);
  simdjson::dom::parser parser;
  // dispatch(F) launched the all-to-all (0.05 .. 0.2 ms); compute ran 0 .. 0.1 and 0.15 .. 0.25.
  const simdjson::dom::element whole =
      parser.parse(json_of(timelines, origin, std::nullopt))["traces"].at(0);
  const simdjson::dom::element dispatch = whole["annotations"].at(2);
  ASSERT_EQ(std::string_view(dispatch["name"]), "dispatch(F)");
  EXPECT_DOUBLE_EQ(double(dispatch["comm_ms"]), 0.15);
  EXPECT_DOUBLE_EQ(double(dispatch["exposed_comm_ms"]), 0.05);
  // Inside 0.15 .. 0.4 ms only its last 0.05 ms count, all of them under compute.
  const simdjson::dom::element windowed =
      parser
          .parse(json_of(timelines, origin, Interval{origin + 150'000, origin + 400'000}))["traces"]
          .at(0)["annotations"]
          .at(1);
  ASSERT_EQ(std::string_view(windowed["name"]), "dispatch(F)");
  EXPECT_DOUBLE_EQ(double(windowed["comm_ms"]), 0.05);
  EXPECT_DOUBLE_EQ(double(windowed["exposed_comm_ms"]), 0.0);
}

TEST(SummaryJson, ListsTheMeasuredScheduleOfEachRank) {
  const ProfileTrace trace = testing::parse(R"({"traceEvents": [
      {"ph": "X", "cat": "user_annotation", "name": "dualpipe:B s0 m2 d1", "pid": 1, "tid": 1, "ts": 0, "dur": 5},
      {"ph": "X", "cat": "cuda_runtime", "name": "cudaLaunchKernel", "pid": 1, "tid": 1, "ts": 1, "args": {"correlation": 7}},
      {"ph": "X", "cat": "kernel", "name": "k", "pid": 0, "tid": 7, "ts": 1000, "dur": 2000, "args": {"correlation": 7}}]})");
  std::vector<RankTimeline> timelines;
  timelines.push_back(build_timeline(trace, 0, KernelClassifier()));
  const std::string json = json_of(timelines, 1'000'000, std::nullopt);
  EXPECT_NE(json.find(R"({"action": "B s0 m2 d1", "start_ms": 0, "duration_ms": 2})"),
            std::string::npos)
      << json;
}

TEST(SummaryJson, WindowIsReportedAndFiltersAnnotations) {
  auto timelines = two_streams();
  const TimeNs origin = earliest_gpu_start(timelines);
  const std::string json = json_of(timelines, origin, Interval{origin + 150'000, origin + 400'000});
  EXPECT_NE(json.find("\"window_ms\": [0.15, 0.4]"), std::string::npos) << json;
  EXPECT_EQ(json.find("attn(F)"), std::string::npos);  // its GPU window ends at 0.1 ms
  EXPECT_NE(json.find("dispatch(F)"), std::string::npos);
}

TEST(SummaryText, PrintsOverlapTheMostExposedAnnotationAndWhereTheStepWent) {
  auto timelines = two_streams();
  const TimeNs origin = earliest_gpu_start(timelines);
  const std::string text =
      summary_text(timelines, analysed(timelines, std::nullopt), origin, std::nullopt);
  EXPECT_NE(text.find("communication 0.150 ms"), std::string::npos) << text;
  EXPECT_NE(text.find("overlap 66.67%"), std::string::npos) << text;
  EXPECT_NE(text.find("most exposed: dispatch(F) 0.050 ms"), std::string::npos) << text;
  EXPECT_NE(text.find("  step 0.310 ms: compute 0.200"), std::string::npos) << text;
  EXPECT_NE(text.find("critical path 0.310 ms"), std::string::npos) << text;
}

TEST(SummaryText, IsShort) {
  std::vector<ProfileTrace> traces;
  for (const std::string& path : testing::recorded_run("dualpipe_step_h200x2")) {
    traces.push_back(parse_chrome_trace(TraceText::load_file(path), path));
  }
  if (traces.empty()) GTEST_SKIP() << "profiles/dualpipe_step_h200x2_rank*.json.gz not present";
  std::vector<RankTimeline> timelines = build_timelines(std::move(traces), KernelClassifier());
  const StepAnalysis analysis = analysed(timelines, std::nullopt);
  const std::string text =
      summary_text(timelines, analysis, earliest_gpu_start(timelines), std::nullopt);
  EXPECT_LE(std::count(text.begin(), text.end(), '\n'), 40) << text;
}

}  // namespace
}  // namespace dualpipe::trace
