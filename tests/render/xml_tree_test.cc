#include "xml_tree.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <utility>

namespace dualpipe::render::testing {
namespace {

TEST(ParseXml, ReadsElementsAttributesAndDecodedText) {
  const XmlElement root = parse_xml(
      "<?xml version=\"1.0\"?>\n<!DOCTYPE html>\n<!-- c -->\n"
      "<a x=\"1 &amp; 2\" y='&#65;&#x42;'><b>t&lt;u</b><c/><![CDATA[<raw>]]></a>\n");
  EXPECT_EQ(root.name, "a");
  EXPECT_EQ(root.attribute("x"), "1 & 2");
  EXPECT_EQ(root.attribute("y"), "AB");
  ASSERT_EQ(root.children.size(), 2u);
  EXPECT_EQ(root.children[0].text, "t<u");
  EXPECT_EQ(root.text, "<raw>");
  EXPECT_EQ(root.find_all("c").size(), 1u);
  EXPECT_EQ(root.all_text(), "<raw>t<u");
}

TEST(ParseXml, RejectsMalformedDocuments) {
  const std::pair<const char*, const char*> cases[] = {
      {"mismatched end tag", "<a><b></a></b>"},
      {"unclosed element", "<a><b/>"},
      {"bare ampersand in text", "<a>x && y</a>"},
      {"unknown entity", "<a>&nbsp;</a>"},
      {"less-than in an attribute", "<a x=\"<\"/>"},
      {"unquoted attribute", "<a x=1/>"},
      {"duplicate attribute", "<a x=\"1\" x=\"2\"/>"},
      {"second root element", "<a/><b/>"},
      {"less-than in text", "<a>1 < 2</a>"},
  };
  for (const auto& [problem, text] : cases) {
    EXPECT_THROW(parse_xml(text), std::runtime_error) << problem << ": " << text;
  }
}

}  // namespace
}  // namespace dualpipe::render::testing
