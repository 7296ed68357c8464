#include "dualpipe/render/schedule_html.h"

#include <gtest/gtest.h>

#include <string>

#include "schedule_test_data.h"
#include "xml_tree.h"

namespace dualpipe::render {
namespace {

using testing::parse_xml;
using testing::small_timed_schedule;
using testing::XmlElement;

TEST(ScheduleHtml, IsAWellFormedPageWithOneInlineSvg) {
  const std::string page = schedule_html(small_timed_schedule());
  EXPECT_EQ(page.rfind("<!DOCTYPE html>\n", 0), 0u);
  const XmlElement html = parse_xml(page);
  EXPECT_EQ(html.name, "html");
  ASSERT_EQ(html.find_all("head").size(), 1u);
  ASSERT_EQ(html.find_all("body").size(), 1u);
  EXPECT_EQ(html.find_all("svg").size(), 1u);
  EXPECT_EQ(html.find_all("script").size(), 1u);
  EXPECT_EQ(html.find_all("style").size(), 1u);
}

TEST(ScheduleHtml, NeedsNothingFromTheNetwork) {
  const std::string page = schedule_html(small_timed_schedule());
  const XmlElement html = parse_xml(page);
  for (const char* element : {"link", "img", "iframe", "object", "embed"}) {
    EXPECT_TRUE(html.find_all(element).empty()) << element;
  }
  EXPECT_FALSE(html.find_all("script")[0]->attribute("src").has_value());
  // The only URL is the SVG namespace name, which is never fetched.
  std::size_t urls = 0;
  for (std::size_t at = page.find("://"); at != std::string::npos; at = page.find("://", at + 1)) {
    ++urls;
  }
  EXPECT_EQ(urls, 1u);
  EXPECT_NE(page.find("xmlns=\"http://www.w3.org/2000/svg\""), std::string::npos);
  EXPECT_EQ(page.find("@import"), std::string::npos);
}

TEST(ScheduleHtml, GivesEveryCellTheHoverTextTheScriptShows) {
  const XmlElement html = parse_xml(schedule_html(small_timed_schedule()));
  int described = 0;
  for (const XmlElement* group : html.find_all("g")) {
    const auto tip = group->attribute("data-tip");
    if (!tip) continue;
    ++described;
    for (const char* field : {"stage ", "micro-batch ", "rank ", "start ", "duration "}) {
      EXPECT_NE(tip->find(field), std::string::npos) << *tip;
    }
  }
  EXPECT_EQ(described, 7);
  EXPECT_TRUE(html.find_all("title").size() == 1u);  // the page title only: the script shows tips
  const std::string script = html.find_all("script")[0]->text;
  EXPECT_NE(script.find("data-tip"), std::string::npos);
  EXPECT_NE(script.find("mousemove"), std::string::npos);
}

TEST(ScheduleHtml, HeadsThePageWithTheTitleAndASummary) {
  ScheduleDrawingOptions options;
  options.title = "DualPipe <8 ranks>";
  const XmlElement html = parse_xml(schedule_html(small_timed_schedule(), options));
  EXPECT_EQ(html.find_all("h1")[0]->text, "DualPipe <8 ranks>");
  EXPECT_EQ(html.find_all("title")[0]->text, "DualPipe <8 ranks>");
  const std::string summary = html.find_all("p")[0]->text;
  EXPECT_NE(summary.find("step time 8 units"), std::string::npos) << summary;
  EXPECT_NE(summary.find("2 ranks"), std::string::npos) << summary;
}

}  // namespace
}  // namespace dualpipe::render
