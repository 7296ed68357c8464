#include "dualpipe/render/timeline_svg.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>

#include "dualpipe/render/svg_document.h"

namespace dualpipe::render {
namespace {

constexpr double kTop = 46.0;         // room for the title and the captions' first line
constexpr double kAxisHeight = 22.0;  // tick labels above the lanes
constexpr double kRankGap = 10.0;     // extra space between two ranks' lanes
constexpr double kLegendHeight = 40.0;
constexpr double kCharWidth = 5.6;  // rough width of one 10 px character

std::string fixed(double value, int decimals) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
  return buffer;
}

// A round tick step (1, 2 or 5 times a power of ten) giving about ten ticks over `span_ms`.
double tick_step(double span_ms) {
  const double raw = std::max(span_ms, 1e-6) / 10.0;
  const double power = std::pow(10.0, std::floor(std::log10(raw)));
  for (double factor : {1.0, 2.0, 5.0}) {
    if (raw <= factor * power) return factor * power;
  }
  return 10.0 * power;
}

std::string tooltip(const TimelineLayout& layout, const PixelBar& bar) {
  const std::string times = fixed(bar.start_ms, 3) + " – " + fixed(bar.end_ms, 3) + " ms";
  if (bar.count > 1) {
    return std::to_string(bar.count) + " × " + bar_kind_name(bar.kind) + ", " + times;
  }
  return layout.labels[bar.label] + " (" + bar_kind_name(bar.kind) + "), " + times + ", " +
         fixed(bar.end_ms - bar.start_ms, 3) + " ms";
}

bool labelled(LaneKind kind) { return kind != LaneKind::kStream && kind != LaneKind::kOverlap; }

// Vertical position of every lane, leaving a gap where the rank changes.
std::vector<double> lane_tops(const TimelineLayout& layout, const TimelineDrawingOptions& o) {
  std::vector<double> tops;
  double y = kTop + 14.0 * static_cast<double>(layout.captions.size()) + kAxisHeight;
  for (std::size_t i = 0; i < layout.lanes.size(); ++i) {
    if (i > 0 && layout.lanes[i].rank != layout.lanes[i - 1].rank) y += kRankGap;
    tops.push_back(y);
    y += o.lane_height_px + o.lane_gap_px;
  }
  tops.push_back(y);  // bottom of the last lane
  return tops;
}

void draw_axis(SvgDocument& svg, const TimelineLayout& layout, const TimelineDrawingOptions& o,
               double axis_y, double bottom, double px_per_ms) {
  const double span = layout.end_ms - layout.start_ms;
  const double step = tick_step(span);
  const int decimals = step >= 1.0 ? 0 : static_cast<int>(std::ceil(-std::log10(step)));
  for (double t = std::ceil(layout.start_ms / step) * step; t <= layout.end_ms + 1e-9; t += step) {
    const double x = o.label_width_px + (t - layout.start_ms) * px_per_ms;
    svg.line(x, axis_y - 4, x, bottom, "#e3e3e3");
    svg.text(x, axis_y - 7, fixed(t, decimals), 10.0, "middle", "#555");
  }
  svg.text(o.label_width_px - 8, axis_y - 7, "ms", 10.0, "end", "#555");
}

// Bands over a rank's lanes (those of kind `over`, or all of them when unset) under the bars of
// kind `bar_kind` in its lane of kind `lane_kind`: exposed communication, the critical path.
void shade_rank(SvgDocument& svg, const TimelineLayout& layout, const std::vector<double>& tops,
                const TimelineDrawingOptions& o, double px_per_ms, LaneKind lane_kind,
                std::optional<LaneKind> over, BarKind bar_kind, const std::string& fill) {
  for (std::size_t i = 0; i < layout.lanes.size(); ++i) {
    const TimelineLane& shaded = layout.lanes[i];
    if (shaded.kind != lane_kind) continue;
    double first = tops[i];
    for (std::size_t j = 0; j < i; ++j) {
      if (layout.lanes[j].rank == shaded.rank && (!over || layout.lanes[j].kind == *over)) {
        first = std::min(first, tops[j]);
      }
    }
    for (const TimelineBar& bar : shaded.bars) {
      if (bar.kind != bar_kind) continue;
      const double x0 = o.label_width_px + (bar.start_ms - layout.start_ms) * px_per_ms;
      const double width = std::max((bar.end_ms - bar.start_ms) * px_per_ms, 0.6);
      svg.raw("<rect x=\"" + fixed(x0, 2) + "\" y=\"" + fixed(first - 2, 2) + "\" width=\"" +
              fixed(width, 2) + "\" height=\"" + fixed(tops[i] - first + 2, 2) + "\" fill=\"" +
              fill + "\" fill-opacity=\"0.13\"/>\n");
    }
  }
}

void draw_lane(SvgDocument& svg, const TimelineLayout& layout, const TimelineLane& lane, double y,
               const TimelineDrawingOptions& o, double px_per_ms) {
  svg.text(o.label_width_px - 8, y + o.lane_height_px * 0.72, lane.title, 11.0, "end", "#222");
  svg.rect(o.label_width_px, y, o.plot_width_px, o.lane_height_px, "#f7f7f7");
  for (const PixelBar& bar : pixel_bars(lane, layout.start_ms, px_per_ms)) {
    const std::string& name = layout.labels[bar.label];
    const double x0 = o.label_width_px + bar.x0_px;
    const double width = bar.x1_px - bar.x0_px;
    svg.rect(x0, y, width, o.lane_height_px, bar_colour(bar.kind, name),
             labelled(lane.kind) ? "#ffffff" : "none", tooltip(layout, bar));
    const std::string text = bar.count > 1 ? "" : name;
    if (labelled(lane.kind) && !text.empty() &&
        width > kCharWidth * static_cast<double>(text.size()) + 4) {
      svg.text(x0 + width / 2, y + o.lane_height_px * 0.7, text, 10.0, "middle", "#111");
    }
  }
}

void draw_legend(SvgDocument& svg, const TimelineDrawingOptions& o, double y) {
  double x = o.label_width_px;
  for (const LegendEntry& entry : timeline_legend()) {
    svg.rect(x, y, 12, 12, entry.colour);
    svg.text(x + 16, y + 10, entry.text, 11.0);
    x += 30 + 6.6 * static_cast<double>(entry.text.size());
  }
}

}  // namespace

std::vector<PixelBar> pixel_bars(const TimelineLane& lane, double start_ms, double px_per_ms) {
  constexpr double kThin = 2.0;
  constexpr double kMinWidth = 0.6;
  std::vector<PixelBar> bars;
  for (const TimelineBar& bar : lane.bars) {
    const double x0 = (bar.start_ms - start_ms) * px_per_ms;
    const double x1 = std::max((bar.end_ms - start_ms) * px_per_ms, x0 + kMinWidth);
    if (!bars.empty()) {
      PixelBar& last = bars.back();
      const bool thin = x1 - x0 < kThin && last.x1_px - last.x0_px < kThin * 4;
      if (thin && last.kind == bar.kind && x0 - last.x1_px < 0.5) {
        last.x1_px = std::max(last.x1_px, x1);
        last.end_ms = std::max(last.end_ms, bar.end_ms);
        ++last.count;
        continue;
      }
    }
    bars.push_back({x0, x1, bar.kind, bar.label, 1, bar.start_ms, bar.end_ms});
  }
  return bars;
}

std::string timeline_svg(const TimelineLayout& layout, const TimelineDrawingOptions& o) {
  const double span = std::max(layout.end_ms - layout.start_ms, 1e-6);
  const double px_per_ms = o.plot_width_px / span;
  const std::vector<double> tops = lane_tops(layout, o);
  const double bottom = tops.back();
  SvgDocument svg(o.label_width_px + o.plot_width_px + 20, bottom + kLegendHeight);
  svg.rect(0, 0, o.label_width_px + o.plot_width_px + 20, bottom + kLegendHeight, "#ffffff");
  svg.text(o.label_width_px, 20,
           "GPU timeline, " + fixed(layout.start_ms, 3) + " – " + fixed(layout.end_ms, 3) +
               " ms after the first GPU activity",
           13.0);
  double caption_y = 38;
  for (const RankCaption& c : layout.captions) {
    svg.text(o.label_width_px, caption_y,
             "rank " + std::to_string(c.rank) + " (" + c.source + "): communication " +
                 fixed(c.comm_ms, 2) + " ms, " + fixed(c.overlap_pct, 1) +
                 "% of it under compute, exposed " + fixed(c.exposed_comm_ms, 2) + " ms",
             11.0, "start", "#333");
    caption_y += 14;
  }
  draw_axis(svg, layout, o, tops.front() - 2, bottom, px_per_ms);
  for (std::size_t i = 0; i < layout.lanes.size(); ++i) {
    draw_lane(svg, layout, layout.lanes[i], tops[i], o, px_per_ms);
  }
  shade_rank(svg, layout, tops, o, px_per_ms, LaneKind::kOverlap, LaneKind::kStream,
             BarKind::kExposedComm, "#e15759");
  shade_rank(svg, layout, tops, o, px_per_ms, LaneKind::kCriticalPath, std::nullopt,
             BarKind::kCriticalPath, "#d62728");
  draw_legend(svg, o, bottom + 12);
  return svg.str();
}

}  // namespace dualpipe::render
