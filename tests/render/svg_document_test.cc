#include "dualpipe/render/svg_document.h"

#include <gtest/gtest.h>

namespace dualpipe::render {
namespace {

TEST(XmlEscape, EscapesMarkupCharacters) {
  EXPECT_EQ(xml_escape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&apos;");
}

TEST(SvgDocument, WrapsElementsInOneSvgRoot) {
  SvgDocument svg(100, 50);
  svg.rect(1, 2, 3, 4, "#f00", "none", "F <1>");
  svg.text(5, 6, "x&y");
  const std::string text = svg.str();
  EXPECT_EQ(text.rfind("<svg ", 0), 0u);
  EXPECT_NE(text.find("<title>F &lt;1&gt;</title>"), std::string::npos);
  EXPECT_NE(text.find(">x&amp;y</text>"), std::string::npos);
  EXPECT_EQ(text.substr(text.size() - 7), "</svg>\n");
}

TEST(SvgDocument, WritesGroupsWithEscapedAttributesAndTitles) {
  SvgDocument svg(10, 10);
  svg.begin_group({{"class", "cell"}, {"data-tip", "a<b"}});
  svg.title("F & B");
  svg.end_group();
  const std::string text = svg.str();
  EXPECT_NE(text.find("<g class=\"cell\" data-tip=\"a&lt;b\">\n<title>F &amp; B</title>\n</g>"),
            std::string::npos);
}

}  // namespace
}  // namespace dualpipe::render
