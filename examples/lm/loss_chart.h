// Loss chart: training and held-out loss against steps as an SVG line chart, with the steps where
// the expert placement was re-planned marked.
#pragma once

#include <string>
#include <vector>

namespace lm {

// One logged point.
struct LossPoint {
  int step = 0;
  double train = 0.0;
  double held_out = 0.0;
};

// The SVG text of the chart.
std::string loss_chart_svg(const std::vector<LossPoint>& points, const std::vector<int>& replans);

}  // namespace lm
