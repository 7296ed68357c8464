// Test support: a strict, small XML parser that checks well-formedness and returns an element tree,
// so that tests can read the SVG and HTML the renderers write.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace dualpipe::render::testing {

// One element: its name, attributes in document order (entities decoded), child elements, and
// the decoded text directly inside it (children's text excluded).
struct XmlElement {
  std::string name;
  std::vector<std::pair<std::string, std::string>> attributes;
  std::vector<XmlElement> children;
  std::string text;

  // The value of attribute `key`, if present.
  std::optional<std::string> attribute(const std::string& key) const;
  // This element and every descendant named `element_name`, in document order.
  std::vector<const XmlElement*> find_all(const std::string& element_name) const;
  // The text directly inside this element, then that of its descendants (depth first).
  std::string all_text() const;
};

// Parses `text` as one XML document: an optional <?xml ...?> prolog, an optional <!DOCTYPE ...>,
// comments, then exactly one root element. Checks that tags nest and match, attributes are quoted,
// unique and free of '<', and every '&' starts one of the five predefined entities or a numeric
// character reference. Throws std::runtime_error("offset N: what was wrong") otherwise.
XmlElement parse_xml(const std::string& text);

}  // namespace dualpipe::render::testing
