#include "dualpipe/runtime/host_timeline.h"

#include <ATen/record_function.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <thread>

namespace dualpipe::runtime {
namespace {

TEST(HostTimeline, RecordsScopesOfEveryThreadAsCompleteEvents) {
  HostTimeline timeline;
  {
    RECORD_USER_SCOPE("dualpipe:F s0 m0 d0");
    torch::ones({4}).add(1);
  }
  std::thread other([] { RECORD_USER_SCOPE("on another thread"); });
  other.join();
  const std::string trace = timeline.finish(3);
  EXPECT_NE(trace.find("\"name\": \"dualpipe:F s0 m0 d0\", \"pid\": 3, \"tid\": 0"),
            std::string::npos)
      << trace;
  EXPECT_NE(trace.find("\"name\": \"aten::add\""), std::string::npos);
  EXPECT_NE(trace.find("\"name\": \"on another thread\", \"pid\": 3, \"tid\": 1"),
            std::string::npos);
  EXPECT_EQ(trace.rfind("{\"traceEvents\": [", 0), 0u);
}

TEST(HostTimeline, StopsRecordingAtFinish) {
  HostTimeline timeline;
  const std::string first = timeline.finish(0);
  { RECORD_USER_SCOPE("after finish"); }
  EXPECT_EQ(first.find("after finish"), std::string::npos);
  HostTimeline next;  // the slot is free again
  { RECORD_USER_SCOPE("second timeline"); }
  EXPECT_NE(next.finish(0).find("second timeline"), std::string::npos);
}

TEST(HostTimeline, AllowsOneTimelineAtATime) {
  HostTimeline timeline;
  EXPECT_THROW(HostTimeline(), std::logic_error);
}

}  // namespace
}  // namespace dualpipe::runtime
