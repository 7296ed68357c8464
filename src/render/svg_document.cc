#include "dualpipe/render/svg_document.h"

namespace dualpipe::render {

std::string xml_escape(const std::string& text) {
  std::string escaped;
  escaped.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': escaped += "&amp;"; break;
      case '<': escaped += "&lt;"; break;
      case '>': escaped += "&gt;"; break;
      case '"': escaped += "&quot;"; break;
      case '\'': escaped += "&apos;"; break;
      default: escaped += c;
    }
  }
  return escaped;
}

SvgDocument::SvgDocument(double width_px, double height_px)
    : width_px_(width_px), height_px_(height_px) {}

void SvgDocument::rect(double x, double y, double width, double height, const std::string& fill,
                       const std::string& stroke, const std::string& tooltip) {
  body_ << "<rect x=\"" << x << "\" y=\"" << y << "\" width=\"" << width << "\" height=\""
        << height << "\" fill=\"" << xml_escape(fill) << "\" stroke=\"" << xml_escape(stroke)
        << "\"";
  if (tooltip.empty()) {
    body_ << "/>\n";
  } else {
    body_ << "><title>" << xml_escape(tooltip) << "</title></rect>\n";
  }
}

void SvgDocument::line(double x1, double y1, double x2, double y2, const std::string& stroke,
                       double stroke_width) {
  body_ << "<line x1=\"" << x1 << "\" y1=\"" << y1 << "\" x2=\"" << x2 << "\" y2=\"" << y2
        << "\" stroke=\"" << xml_escape(stroke) << "\" stroke-width=\"" << stroke_width
        << "\"/>\n";
}

void SvgDocument::text(double x, double y, const std::string& content, double font_px,
                       const std::string& anchor, const std::string& fill) {
  body_ << "<text x=\"" << x << "\" y=\"" << y << "\" font-size=\"" << font_px
        << "\" text-anchor=\"" << xml_escape(anchor) << "\" fill=\"" << xml_escape(fill) << "\">"
        << xml_escape(content) << "</text>\n";
}

void SvgDocument::begin_group(const std::vector<std::pair<std::string, std::string>>& attributes) {
  body_ << "<g";
  for (const auto& [name, value] : attributes) {
    body_ << " " << name << "=\"" << xml_escape(value) << "\"";
  }
  body_ << ">\n";
}

void SvgDocument::end_group() { body_ << "</g>\n"; }

void SvgDocument::title(const std::string& content) {
  body_ << "<title>" << xml_escape(content) << "</title>\n";
}

void SvgDocument::raw(const std::string& markup) { body_ << markup; }

std::string SvgDocument::str() const {
  std::ostringstream out;
  out << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width_px_ << "\" height=\""
      << height_px_ << "\" viewBox=\"0 0 " << width_px_ << " " << height_px_
      << "\" font-family=\"sans-serif\">\n"
      << body_.str() << "</svg>\n";
  return out.str();
}

}  // namespace dualpipe::render
