#include "trace_pieces.h"

#include <gtest/gtest.h>

#include <string>

#include "dualpipe/trace/trace_error.h"
#include "synthetic_trace.h"

namespace dualpipe::trace {
namespace {

constexpr std::size_t kSmallPieces = 4096;  // many pieces from a trace of a few hundred kB

// A trace of two ranks' worth of kernels, launches, annotations, metadata and escaped names.
std::string busy_trace() {
  testing::SyntheticTrace trace(3, 4);
  for (int i = 0; i < 600; ++i) {
    const double t = 100.0 * i;
    trace.annotation(i % 2 ? "attn(F)" : "dispatch(\\\"B\\\")", t, 40)
        .compute(t + 10, 30, t + 1, i % 3 ? "gemm" : "gemm \\u00e9")
        .send(2, t + 20, 30, t + 5, i);
  }
  std::string json = trace.json();
  json.insert(
      json.find('[') + 1,
      "\n{\"ph\": \"M\", \"name\": \"process_name\", \"pid\": 0, \"args\": {\"name\": \"GPU\"}},"
      "\n{\"ph\": \"M\", \"name\": \"thread_name\", \"pid\": \"0\", \"tid\": \"stream 7\", "
      "\"args\": {\"name\": \"compute\"}},");
  return json.substr(0, json.size() - 3) + "],\n\"traceName\": \"run [3]\"}\n";
}

void expect_same(const ProfileTrace& a, const ProfileTrace& b) {
  ASSERT_EQ(a.gpu_activities.size(), b.gpu_activities.size());
  for (std::size_t i = 0; i < a.gpu_activities.size(); ++i) {
    EXPECT_EQ(a.gpu_activities[i].start, b.gpu_activities[i].start);
    EXPECT_EQ(a.gpu_activities[i].duration, b.gpu_activities[i].duration);
    EXPECT_EQ(a.names[a.gpu_activities[i].name], b.names[b.gpu_activities[i].name]);
    EXPECT_EQ(a.id_text(a.gpu_activities[i].stream), b.id_text(b.gpu_activities[i].stream));
    const int ca = a.gpu_activities[i].communication;
    const int cb = b.gpu_activities[i].communication;
    ASSERT_EQ(ca < 0, cb < 0);
    if (ca >= 0) {
      EXPECT_EQ(a.communication_args[ca].elements, b.communication_args[cb].elements);
      EXPECT_EQ(a.communication_args[ca].peer, b.communication_args[cb].peer);
    }
  }
  ASSERT_EQ(a.annotations.size(), b.annotations.size());
  for (std::size_t i = 0; i < a.annotations.size(); ++i) {
    EXPECT_EQ(a.names[a.annotations[i].name], b.names[b.annotations[i].name]);
    EXPECT_EQ(a.annotations[i].start, b.annotations[i].start);
  }
  ASSERT_EQ(a.launches.size(), b.launches.size());
  EXPECT_EQ(a.process_labels, b.process_labels);
  EXPECT_EQ(a.thread_names.size(), b.thread_names.size());
  EXPECT_EQ(a.rank, b.rank);
  EXPECT_EQ(a.world_size, b.world_size);
}

TEST(ReadInPieces, GivesWhatReadingTheWholeTextGives) {
  const TraceText text = TraceText::copy_of(busy_trace());
  const ProfileTrace whole = parse_chrome_trace(text, "whole.json");
  for (unsigned threads : {1u, 3u}) {
    const std::optional<ProfileTrace> pieces =
        read_in_pieces(text, "x.json", threads, kSmallPieces);
    ASSERT_TRUE(pieces) << threads;
    expect_same(*pieces, whole);
  }
}

TEST(ReadInPieces, ReadsABareArrayOfEvents) {
  std::string json = busy_trace();
  const std::size_t open = json.find("\"traceEvents\": [") + 15;
  json = json.substr(open, json.rfind("],\n\"traceName\"") - open + 1);
  const TraceText text = TraceText::copy_of(json);
  const std::optional<ProfileTrace> pieces = read_in_pieces(text, "x.json", 2, kSmallPieces);
  ASSERT_TRUE(pieces);
  expect_same(*pieces, parse_chrome_trace(text, "whole.json"));
}

TEST(ReadInPieces, LeavesBadTextToTheWholeReaderForItsPreciseError) {
  std::string json = busy_trace();
  json.replace(json.find("\"ts\": 30010"), 11, "\"ts\": \"x\"");
  const TraceText text = TraceText::copy_of(json);
  EXPECT_FALSE(read_in_pieces(text, "x.json", 2, kSmallPieces));
  try {
    parse_chrome_trace(text, "bad.json", 2);
    FAIL() << "accepted";
  } catch (const TraceFormatError& error) {
    EXPECT_EQ(error.byte_offset(), json.find("\"x\""));
  }
}

TEST(ReadInPieces, LeavesSmallTracesWhole) {
  EXPECT_FALSE(read_in_pieces(TraceText::copy_of(busy_trace()), "x.json", 2));
}

}  // namespace
}  // namespace dualpipe::trace
