#include "xml_tree.h"

#include <cstdint>
#include <stdexcept>

namespace dualpipe::render::testing {
namespace {

bool is_name_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
         static_cast<unsigned char>(c) >= 0x80;
}

bool is_name_char(char c) {
  return is_name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

void append_utf8(std::string& out, std::uint32_t code) {
  if (code < 0x80) {
    out += static_cast<char>(code);
  } else if (code < 0x800) {
    out += static_cast<char>(0xC0 | (code >> 6));
    out += static_cast<char>(0x80 | (code & 0x3F));
  } else if (code < 0x10000) {
    out += static_cast<char>(0xE0 | (code >> 12));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (code >> 18));
    out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code & 0x3F));
  }
}

class Parser {
 public:
  explicit Parser(const std::string& text) : text_(text) {}

  XmlElement document() {
    skip_space();
    if (starts_with("<?xml")) skip_past("?>");
    skip_misc();
    if (starts_with("<!DOCTYPE")) {
      skip_past(">");
      skip_misc();
    }
    if (!starts_with("<")) fail("expected the root element");
    XmlElement root = element();
    skip_misc();
    if (pos_ != text_.size()) fail("content after the root element");
    return root;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error("offset " + std::to_string(pos_) + ": " + what);
  }

  bool starts_with(const char* prefix) const {
    return text_.compare(pos_, std::char_traits<char>::length(prefix), prefix) == 0;
  }

  void skip_space() {
    while (pos_ < text_.size() && is_space(text_[pos_])) ++pos_;
  }

  void skip_past(const char* end) {
    const std::size_t found = text_.find(end, pos_);
    if (found == std::string::npos) fail(std::string("missing '") + end + "'");
    pos_ = found + std::char_traits<char>::length(end);
  }

  // Whitespace and comments between top-level constructs.
  void skip_misc() {
    for (skip_space(); starts_with("<!--"); skip_space()) comment();
  }

  void comment() {
    pos_ += 4;
    const std::size_t end = text_.find("--", pos_);
    if (end == std::string::npos || text_.compare(end, 3, "-->") != 0) fail("bad comment");
    pos_ = end + 3;
  }

  std::string name() {
    if (pos_ >= text_.size() || !is_name_start(text_[pos_])) fail("expected a name");
    const std::size_t start = pos_;
    while (pos_ < text_.size() && is_name_char(text_[pos_])) ++pos_;
    return text_.substr(start, pos_ - start);
  }

  // Decodes the reference at '&'.
  void reference(std::string& out) {
    const std::size_t end = text_.find(';', pos_);
    if (end == std::string::npos || end - pos_ > 10) fail("'&' that starts no entity");
    const std::string entity = text_.substr(pos_ + 1, end - pos_ - 1);
    if (entity == "amp")
      out += '&';
    else if (entity == "lt")
      out += '<';
    else if (entity == "gt")
      out += '>';
    else if (entity == "quot")
      out += '"';
    else if (entity == "apos")
      out += '\'';
    else if (entity.size() > 1 && entity[0] == '#') {
      const bool hex = entity[1] == 'x';
      const std::string digits = entity.substr(hex ? 2 : 1);
      if (digits.empty() || digits.find_first_not_of(hex ? "0123456789abcdefABCDEF"
                                                         : "0123456789") != std::string::npos) {
        fail("bad character reference &" + entity + ";");
      }
      append_utf8(out, static_cast<std::uint32_t>(std::stoul(digits, nullptr, hex ? 16 : 10)));
    } else {
      fail("unknown entity &" + entity + ";");
    }
    pos_ = end + 1;
  }

  std::string attribute_value() {
    if (pos_ >= text_.size() || (text_[pos_] != '"' && text_[pos_] != '\'')) {
      fail("expected a quoted attribute value");
    }
    const char quote = text_[pos_++];
    std::string value;
    while (pos_ < text_.size() && text_[pos_] != quote) {
      if (text_[pos_] == '<') fail("'<' in an attribute value");
      if (text_[pos_] == '&') {
        reference(value);
      } else {
        value += text_[pos_++];
      }
    }
    if (pos_ >= text_.size()) fail("unterminated attribute value");
    ++pos_;
    return value;
  }

  XmlElement element() {
    ++pos_;  // '<'
    XmlElement element;
    element.name = name();
    for (;;) {
      const std::size_t before = pos_;
      skip_space();
      if (starts_with("/>")) {
        pos_ += 2;
        return element;
      }
      if (starts_with(">")) {
        ++pos_;
        break;
      }
      if (pos_ == before) fail("expected whitespace, '>' or '/>' in <" + element.name + ">");
      const std::string key = name();
      if (element.attribute(key)) fail("duplicate attribute " + key);
      skip_space();
      if (!starts_with("=")) fail("expected '=' after attribute " + key);
      ++pos_;
      skip_space();
      element.attributes.emplace_back(key, attribute_value());
    }
    content(element);
    return element;
  }

  // Children and text up to and including the matching end tag.
  void content(XmlElement& element) {
    while (pos_ < text_.size()) {
      if (starts_with("</")) {
        pos_ += 2;
        const std::string closing = name();
        if (closing != element.name) fail("</" + closing + "> closes <" + element.name + ">");
        skip_space();
        if (!starts_with(">")) fail("expected '>'");
        ++pos_;
        return;
      }
      if (starts_with("<!--")) {
        comment();
      } else if (starts_with("<![CDATA[")) {
        pos_ += 9;
        const std::size_t end = text_.find("]]>", pos_);
        if (end == std::string::npos) fail("unterminated CDATA");
        element.text += text_.substr(pos_, end - pos_);
        pos_ = end + 3;
      } else if (starts_with("<")) {
        element.children.push_back(this->element());
      } else if (text_[pos_] == '&') {
        reference(element.text);
      } else {
        if (starts_with("]]>")) fail("']]>' in text");
        element.text += text_[pos_++];
      }
    }
    fail("<" + element.name + "> is never closed");
  }

  const std::string& text_;
  std::size_t pos_ = 0;
};

void collect(const XmlElement& element, const std::string& name,
             std::vector<const XmlElement*>& found) {
  if (element.name == name) found.push_back(&element);
  for (const XmlElement& child : element.children) collect(child, name, found);
}

}  // namespace

std::optional<std::string> XmlElement::attribute(const std::string& key) const {
  for (const auto& [name, value] : attributes) {
    if (name == key) return value;
  }
  return std::nullopt;
}

std::vector<const XmlElement*> XmlElement::find_all(const std::string& element_name) const {
  std::vector<const XmlElement*> found;
  collect(*this, element_name, found);
  return found;
}

std::string XmlElement::all_text() const {
  std::string result = text;
  for (const XmlElement& child : children) result += child.all_text();
  return result;
}

XmlElement parse_xml(const std::string& text) { return Parser(text).document(); }

}  // namespace dualpipe::render::testing
