// Timeline drawing as SVG: one lane per GPU stream and per kind of annotation, communication and
// compute coloured apart, hidden and exposed communication shaded, a time axis in ms, a legend.
#pragma once

#include <string>
#include <vector>

#include "dualpipe/render/timeline_layout.h"

namespace dualpipe::render {

// Sizes of a timeline drawing, in pixels.
struct TimelineDrawingOptions {
  double plot_width_px = 1400.0;  // width of the time span
  double label_width_px = 190.0;  // lane titles on the left
  double lane_height_px = 18.0;
  double lane_gap_px = 4.0;
};

// A group of bars of one kind drawn as one rectangle because they are too thin to tell apart.
struct PixelBar {
  double x0_px = 0.0;
  double x1_px = 0.0;
  BarKind kind = BarKind::kCompute;
  std::uint32_t label = 0;  // label of the first bar
  int count = 0;            // bars merged
  double start_ms = 0.0;
  double end_ms = 0.0;
};

// The bars of `lane` in pixels (x = (t - start_ms) * px_per_ms), merging runs of bars of one kind
// that are narrower than two pixels and less than half a pixel apart. Every bar is at least
// 0.6 px wide so that short kernels stay visible.
std::vector<PixelBar> pixel_bars(const TimelineLane& lane, double start_ms, double px_per_ms);

// The whole drawing: the <svg> element text.
std::string timeline_svg(const TimelineLayout& layout, const TimelineDrawingOptions& options = {});

}  // namespace dualpipe::render
