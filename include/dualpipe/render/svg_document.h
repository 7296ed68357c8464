// SvgDocument: a small builder for well-formed, self-contained SVG text.
#pragma once

#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace dualpipe::render {

// Escapes &, <, >, " and ' for use in XML text and attribute values.
std::string xml_escape(const std::string& text);

// Accumulates SVG elements; coordinates are in pixels with the origin at the top left.
class SvgDocument {
 public:
  SvgDocument(double width_px, double height_px);

  void rect(double x, double y, double width, double height, const std::string& fill,
            const std::string& stroke = "none", const std::string& tooltip = "");
  void line(double x1, double y1, double x2, double y2, const std::string& stroke,
            double stroke_width = 1.0);
  // `anchor` is an SVG text-anchor: "start", "middle" or "end".
  void text(double x, double y, const std::string& content, double font_px = 11.0,
            const std::string& anchor = "start", const std::string& fill = "#000");
  // Opens a <g> group with the given attributes (values are escaped); close it with end_group().
  void begin_group(const std::vector<std::pair<std::string, std::string>>& attributes = {});
  void end_group();
  // A <title> (hover text in SVG viewers) for the enclosing element; put it first in a group.
  void title(const std::string& content);
  // Appends raw, already well-formed SVG markup.
  void raw(const std::string& markup);

  // The finished document, starting with the <svg> element (no XML prolog).
  std::string str() const;

 private:
  double width_px_;
  double height_px_;
  std::ostringstream body_;
};

}  // namespace dualpipe::render
