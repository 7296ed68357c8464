#include "dualpipe/trace/chrome_trace.h"

#include <gtest/gtest.h>

#include <string>

#include "dualpipe/trace/trace_error.h"
#include "trace_test_data.h"

namespace dualpipe::trace {
namespace {

using testing::parse;
using testing::parse_file;

TEST(ParseChromeTrace, KeepsGpuActivitiesLaunchesAnnotationsAndTrackNames) {
  const ProfileTrace trace = parse_file("two_streams.json");
  EXPECT_EQ(trace.rank, 0);
  ASSERT_EQ(trace.gpu_activities.size(), 4u);
  EXPECT_EQ(trace.gpu_activities[0].start, 1'000'000);
  EXPECT_EQ(trace.gpu_activities[0].duration, 100'000);
  EXPECT_EQ(trace.gpu_activities[0].stream, 7);
  EXPECT_EQ(trace.gpu_activities[0].correlation, 1);
  EXPECT_EQ(trace.names[trace.gpu_activities[0].name], "sm90_xmma_gemm_bf16bf16_bf16f32");
  EXPECT_EQ(trace.gpu_activities[3].category, ActivityCategory::kMemcpy);
  EXPECT_EQ(trace.launches.size(), 5u);  // the cpu_op and flow events are dropped
  ASSERT_EQ(trace.annotations.size(), 3u);
  EXPECT_EQ(trace.names[trace.annotations[1].name], "attn(F)");
  EXPECT_EQ(trace.process_labels.at(0), "GPU 0");
  EXPECT_EQ(trace.thread_names.at({0, 13}), "stream 13 ");
}

TEST(ParseChromeTrace, ReadsFloatTimestampsToTheNanosecond) {
  const ProfileTrace trace = parse_file("float_timestamps.json");
  ASSERT_EQ(trace.gpu_activities.size(), 3u);
  EXPECT_EQ(trace.gpu_activities[0].start, 1'000'125);
  EXPECT_EQ(trace.gpu_activities[0].duration, 2'500);
  EXPECT_EQ(trace.gpu_activities[1].start, 1'001'626);  // 1001.6255 us rounds up
  EXPECT_EQ(trace.gpu_activities[1].duration, 2'000);   // 2.0004 us rounds down
  EXPECT_EQ(trace.gpu_activities[2].start, 1'004'500);  // 1.0045e3 us
  EXPECT_EQ(trace.annotations[0].start, 99'500);
  EXPECT_EQ(trace.annotations[0].duration, 1'250);
}

TEST(ParseChromeTrace, TakesStringPidsAsNumbersOrNamedTracks) {
  const ProfileTrace trace = parse_file("float_timestamps.json");
  EXPECT_EQ(trace.gpu_activities[0].device, 0);  // "0"
  EXPECT_EQ(trace.id_text(trace.gpu_activities[0].stream), "stream 7");
  EXPECT_EQ(trace.gpu_activities[2].stream, 7);  // integer 7 is another track than "stream 7"
  EXPECT_EQ(trace.id_text(trace.annotations[0].process), "host");
  EXPECT_EQ(trace.id_text(trace.launches[0].thread), "autograd");
}

TEST(ParseChromeTrace, ToleratesMissingOptionalFields) {
  const ProfileTrace trace = parse_file("float_timestamps.json");
  EXPECT_EQ(trace.gpu_activities[1].correlation, -1);  // no args
  EXPECT_EQ(trace.launches[0].correlation, 10);        // a runtime call needs no dur
  EXPECT_FALSE(trace.rank.has_value());                // no distributedInfo
}

TEST(ParseChromeTrace, DecodesEscapedNames) {
  const ProfileTrace trace = parse_file("float_timestamps.json");
  EXPECT_EQ(trace.names[trace.gpu_activities[2].name], "elementwise \"quoted\" \xc3\xa9");
}

TEST(ParseChromeTrace, ReadsGzipCompressedFiles) {
  const ProfileTrace plain = parse_file("two_streams.json");
  const ProfileTrace compressed = parse_file("two_streams.json.gz");
  ASSERT_EQ(compressed.gpu_activities.size(), plain.gpu_activities.size());
  EXPECT_EQ(compressed.gpu_activities.back().start, plain.gpu_activities.back().start);
  EXPECT_EQ(compressed.annotations.size(), plain.annotations.size());
}

TEST(ParseChromeTrace, AcceptsABareArrayOfEvents) {
  const ProfileTrace trace = parse(
      R"([{"ph": "X", "cat": "kernel", "name": "k", "pid": 0, "tid": 1, "ts": 5, "dur": 2}])");
  ASSERT_EQ(trace.gpu_activities.size(), 1u);
  EXPECT_EQ(trace.gpu_activities[0].start, 5'000);
}

TEST(ParseChromeTrace, ReadsFieldsInAnyOrder) {
  const ProfileTrace trace = parse(
      R"({"traceEvents": [{"args": {"correlation": 4}, "dur": 2, "ts": 7, "tid": 1, "pid": 0,
          "name": "k", "cat": "kernel", "ph": "X"}], "distributedInfo": {"rank": 3}})");
  ASSERT_EQ(trace.gpu_activities.size(), 1u);
  EXPECT_EQ(trace.gpu_activities[0].correlation, 4);
  EXPECT_EQ(trace.rank, 3);
}

// The error of parsing `json`, or "" when it parses.
std::string error_of(std::string_view json, std::size_t* offset = nullptr) {
  try {
    parse(json);
  } catch (const TraceFormatError& error) {
    if (offset) *offset = error.byte_offset();
    return error.what();
  }
  return "";
}

TEST(ParseChromeTraceErrors, TextThatIsNotJsonNamesFileAndOffset) {
  std::size_t offset = 99;
  const std::string message = error_of("hello world", &offset);
  EXPECT_EQ(offset, 0u);
  EXPECT_NE(message.find("inline.json: byte 0:"), std::string::npos) << message;
}

TEST(ParseChromeTraceErrors, TruncatedJsonIsReported) {
  const std::string full =
      R"({"traceEvents": [{"ph": "X", "cat": "kernel", "name": "k", "pid": 0, "tid": 1, "ts": 5, "dur": 2}]})";
  for (std::size_t cut : {full.size() - 1, full.size() - 3, std::size_t{40}, std::size_t{20}}) {
    const std::string message = error_of(full.substr(0, cut));
    EXPECT_NE(message, "") << "cut at " << cut;
    EXPECT_NE(message.find("byte "), std::string::npos) << message;
  }
}

TEST(ParseChromeTraceErrors, WrongTypePointsAtTheValue) {
  const std::string json =
      R"({"traceEvents": [{"ph": "X", "cat": "kernel", "name": "k", "ts": "soon", "dur": 2}]})";
  std::size_t offset = 0;
  const std::string message = error_of(json, &offset);
  EXPECT_EQ(offset, json.find("\"soon\""));
  EXPECT_NE(message.find("expected a number of microseconds for \"ts\""), std::string::npos);
}

TEST(ParseChromeTraceErrors, WrongTypesOfOtherFieldsAreErrors) {
  EXPECT_NE(error_of(R"({"traceEvents": [{"ph": 1}]})"), "");
  EXPECT_NE(error_of(R"({"traceEvents": [{"ph": "X", "cat": "kernel", "pid": [0], "ts": 1}]})"),
            "");
  EXPECT_NE(
      error_of(
          R"({"traceEvents": [{"ph": "X", "cat": "kernel", "ts": 1, "args": {"correlation": "x"}}]})"),
      "");
  EXPECT_NE(error_of(R"({"traceEvents": [{"ph": "X", "cat": "kernel", "ts": 1, "args": 3}]})"), "");
  EXPECT_NE(error_of(R"({"traceEvents": {"ph": "X"}})"), "");
  EXPECT_NE(error_of(R"({"traceEvents": [], "distributedInfo": {"rank": "zero"}})"), "");
}

TEST(ParseChromeTraceErrors, KernelOrAnnotationWithoutDurationIsAnError) {
  for (const char* cat : {"kernel", "gpu_memcpy", "user_annotation"}) {
    const std::string message = error_of(std::string(R"({"traceEvents": [{"ph": "X", "cat": ")") +
                                         cat + R"(", "name": "k", "ts": 1}]})");
    EXPECT_NE(message.find("no \"dur\""), std::string::npos) << message;
    EXPECT_NE(message.find("byte 17"), std::string::npos) << message;  // the event's offset
  }
}

TEST(ParseChromeTraceErrors, KernelWithoutStartTimeIsAnError) {
  const std::string message =
      error_of(R"({"traceEvents": [{"ph": "X", "cat": "kernel", "name": "k", "dur": 2}]})");
  EXPECT_NE(message.find("no \"ts\""), std::string::npos) << message;
}

TEST(ParseChromeTraceErrors, TraceWithoutKernelsOrCpuOperatorsIsAnError) {
  const std::string message = error_of(
      R"({"traceEvents": [{"ph": "X", "cat": "user_annotation", "name": "a", "ts": 1, "dur": 2}]})");
  EXPECT_NE(message.find("no GPU kernels"), std::string::npos) << message;
}

TEST(ParseChromeTrace, ReadsATraceRecordedWithoutAGpuAsItsOutermostCpuOperators) {
  const ProfileTrace trace = testing::parse(R"({"traceEvents": [
        {"ph": "X", "cat": "cpu_op", "name": "aten::linear", "ts": 10, "dur": 8, "pid": 1, "tid": 2},
        {"ph": "X", "cat": "cpu_op", "name": "aten::mm", "ts": 11, "dur": 5, "pid": 1, "tid": 2},
        {"ph": "X", "cat": "cpu_op", "name": "aten::add", "ts": 12, "dur": 3, "pid": 1, "tid": 3},
        {"ph": "X", "cat": "user_annotation", "name": "gloo:all_reduce", "ts": 20, "dur": 4,
         "pid": 1, "tid": 2},
        {"ph": "X", "cat": "user_annotation", "name": "dualpipe:F s0 m0 d0", "ts": 9, "dur": 11,
         "pid": 1, "tid": 2}]})");
  EXPECT_TRUE(trace.cpu_only);
  ASSERT_EQ(trace.gpu_activities.size(), 3u);  // linear, add on another thread, the gloo range
  EXPECT_EQ(trace.names[trace.gpu_activities[0].name], "aten::linear");
  EXPECT_EQ(trace.gpu_activities[1].stream, 3);
  EXPECT_EQ(trace.names[trace.gpu_activities[2].name], "gloo:all_reduce");
  ASSERT_EQ(trace.annotations.size(), 1u);
}

TEST(ParseChromeTraceErrors, UnknownFormatsAreErrors) {
  EXPECT_NE(error_of(R"({"events": []})").find("no \"traceEvents\""), std::string::npos);
  EXPECT_NE(error_of("42").find("not a Chrome trace"), std::string::npos);
  EXPECT_NE(error_of("").find("empty input"), std::string::npos);
}

TEST(ParseChromeTraceErrors, BadStringsAreErrors) {
  std::size_t offset = 0;
  EXPECT_NE(error_of("{\"traceEvents\": [{\"ph\": \"X\xff\"}]}", &offset).find("UTF-8"),
            std::string::npos);
  EXPECT_EQ(offset, 26u);  // the 0xff byte
  EXPECT_NE(
      error_of(
          R"({"traceEvents": [{"ph": "X", "cat": "kernel", "name": "bad \q", "ts": 1, "dur": 1}]})")
          .find("escape"),
      std::string::npos);
  EXPECT_NE(error_of(R"({"traceEvents": [{"ph": "X, "cat": "kernel"}]})"), "");
}

TEST(ParseChromeTraceErrors, TrailingContentIsAnError) {
  const std::string events =
      R"({"traceEvents": [{"ph": "X", "cat": "kernel", "name": "k", "ts": 1, "dur": 1}]})";
  for (const std::string& trailing : {std::string(" x"), std::string(" {}")}) {
    std::size_t offset = 0;
    EXPECT_NE(error_of(events + trailing, &offset).find("after the JSON document"),
              std::string::npos);
    EXPECT_EQ(offset, events.size() + 1);
  }
}

TEST(ParseChromeTraceErrors, TruncationIsReportedAtTheEnd) {
  const std::string json =
      R"({"traceEvents": [{"ph": "X", "cat": "kernel", "name": "k", "ts": 1, "dur": 1})";
  std::size_t offset = 0;
  EXPECT_NE(error_of(json, &offset).find("truncated"), std::string::npos);
  EXPECT_EQ(offset, json.size());
}

}  // namespace
}  // namespace dualpipe::trace
