#include "dualpipe/render/timeline_html.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include "timeline_test_data.h"

namespace dualpipe::render {
namespace {

TEST(TimelineDataJson, IsValidJsonWithFiveNumbersPerBar) {
  const TimelineLayout layout = testing::two_streams_layout();
  const testing::ParsedJson data(timeline_data_json(layout));
  const simdjson::dom::array lanes = data.root["lanes"];
  ASSERT_EQ(lanes.size(), layout.lanes.size());
  std::size_t i = 0;
  for (const simdjson::dom::element lane : lanes) {
    EXPECT_EQ(std::string_view(lane["title"]), layout.lanes[i].title);
    EXPECT_EQ(simdjson::dom::array(lane["bars"]).size(), 5 * layout.lanes[i].bars.size());
    ++i;
  }
  EXPECT_EQ(simdjson::dom::array(data.root["labels"]).size(), layout.labels.size());
}

TEST(TimelineHtml, IsOneSelfContainedPageWithZoomAndHover) {
  const std::string html = timeline_html(testing::two_streams_layout());
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_EQ(html.find("src=\""), std::string::npos);   // no external scripts or images
  EXPECT_EQ(html.find("href=\""), std::string::npos);  // no external style sheets
  EXPECT_NE(html.find("addEventListener('wheel'"), std::string::npos);
  EXPECT_NE(html.find("function hover("), std::string::npos);
  EXPECT_NE(html.find("ncclDevKernel_SendRecv"), std::string::npos);
}

TEST(TimelineHtml, NamesEveryBarKindAndShadesTheCriticalPath) {
  const std::string html = timeline_html(testing::two_streams_analysed_layout());
  EXPECT_NE(html.find("shadeRank('critical path'"), std::string::npos);
  const testing::ParsedJson data(timeline_data_json(testing::two_streams_analysed_layout()));
  const simdjson::dom::array kinds = data.root["kinds"];
  EXPECT_EQ(kinds.size(), 13u);
  EXPECT_EQ(std::string_view(kinds.at(12)), "critical path");
}

TEST(TimelineHtml, KeepsTheScriptElementClosedOnlyOnce) {
  TimelineLayout layout = testing::two_streams_layout();
  layout.labels[0] = "</script><b>";
  const std::string html = timeline_html(layout);
  EXPECT_EQ(html.find("</script><b>"), std::string::npos);
  EXPECT_EQ(html.find("</script>"), html.rfind("</script>"));
}

}  // namespace
}  // namespace dualpipe::render
