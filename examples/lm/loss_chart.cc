#include "loss_chart.h"

#include <algorithm>
#include <cstdio>

#include "dualpipe/render/svg_document.h"

namespace lm {

namespace {

constexpr double kWidth = 640;
constexpr double kHeight = 360;
constexpr double kLeft = 56;
constexpr double kRight = 16;
constexpr double kTop = 28;
constexpr double kBottom = 40;

std::string number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f", value);
  return text;
}

}  // namespace

std::string loss_chart_svg(const std::vector<LossPoint>& points, const std::vector<int>& replans) {
  dualpipe::render::SvgDocument svg(kWidth, kHeight);
  svg.rect(0, 0, kWidth, kHeight, "#fff");
  if (points.empty()) return svg.str();
  double low = points.front().train;
  double high = low;
  for (const LossPoint& p : points) {
    low = std::min({low, p.train, p.held_out});
    high = std::max({high, p.train, p.held_out});
  }
  if (high <= low) high = low + 1;
  const int last = std::max(points.back().step, 1);
  const auto x = [&](double step) { return kLeft + (kWidth - kLeft - kRight) * step / last; };
  const auto y = [&](double loss) {
    return kTop + (kHeight - kTop - kBottom) * (high - loss) / (high - low);
  };
  svg.line(kLeft, kHeight - kBottom, kWidth - kRight, kHeight - kBottom, "#444");
  svg.line(kLeft, kTop, kLeft, kHeight - kBottom, "#444");
  for (int i = 0; i <= 4; ++i) {
    const double loss = low + (high - low) * i / 4;
    svg.text(kLeft - 6, y(loss) + 4, number(loss), 10, "end", "#444");
    svg.text(x(last * i / 4.0), kHeight - kBottom + 16, std::to_string(last * i / 4), 10, "middle",
             "#444");
  }
  svg.text((kLeft + kWidth - kRight) / 2, kHeight - 6, "step", 11, "middle", "#444");
  svg.text(kLeft, 16, "loss (cross-entropy per byte)", 11, "start", "#444");
  for (int step : replans) {
    svg.line(x(step), kTop, x(step), kHeight - kBottom, "#bbb", 1);
    svg.text(x(step) + 3, kTop + 10, "re-plan", 9, "start", "#888");
  }
  const auto polyline = [&](auto value, const std::string& colour) {
    std::string path = "<polyline fill=\"none\" stroke=\"" + colour + "\" stroke-width=\"2\" points=\"";
    for (const LossPoint& p : points) path += number(x(p.step)) + "," + number(y(value(p))) + " ";
    svg.raw(path + "\"/>");
  };
  polyline([](const LossPoint& p) { return p.train; }, "#1f77b4");
  polyline([](const LossPoint& p) { return p.held_out; }, "#d62728");
  svg.text(kWidth - kRight - 150, 16, "train", 11, "start", "#1f77b4");
  svg.text(kWidth - kRight - 100, 16, "held-out", 11, "start", "#d62728");
  return svg.str();
}

}  // namespace lm
