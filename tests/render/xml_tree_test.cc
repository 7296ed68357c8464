#include "xml_tree.h"

#include <gtest/gtest.h>

#include <stdexcept>

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

TEST(ParseXml, RejectsMismatchedEndTag) {
  EXPECT_THROW(parse_xml("<a><b></a></b>"), std::runtime_error);
}

TEST(ParseXml, RejectsUnclosedElement) { EXPECT_THROW(parse_xml("<a><b/>"), std::runtime_error); }

TEST(ParseXml, RejectsBareAmpersandInText) {
  EXPECT_THROW(parse_xml("<a>x && y</a>"), std::runtime_error);
}

TEST(ParseXml, RejectsUnknownEntity) {
  EXPECT_THROW(parse_xml("<a>&nbsp;</a>"), std::runtime_error);
}

TEST(ParseXml, RejectsLessThanInAttribute) {
  EXPECT_THROW(parse_xml("<a x=\"<\"/>"), std::runtime_error);
}

TEST(ParseXml, RejectsUnquotedAttribute) {
  EXPECT_THROW(parse_xml("<a x=1/>"), std::runtime_error);
}

TEST(ParseXml, RejectsDuplicateAttribute) {
  EXPECT_THROW(parse_xml("<a x=\"1\" x=\"2\"/>"), std::runtime_error);
}

TEST(ParseXml, RejectsSecondRootElement) {
  EXPECT_THROW(parse_xml("<a/><b/>"), std::runtime_error);
}

TEST(ParseXml, RejectsLessThanInText) {
  EXPECT_THROW(parse_xml("<a>1 < 2</a>"), std::runtime_error);
}

}  // namespace
}  // namespace dualpipe::render::testing
