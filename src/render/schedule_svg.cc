#include "dualpipe/render/schedule_svg.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "dualpipe/render/svg_document.h"

namespace dualpipe::render {
namespace {

using schedule::Action;
using schedule::ActionTiming;
using schedule::Chunk;
using schedule::Op;
using schedule::Schedule;
using schedule::TimedSchedule;

constexpr double kLabelWidth = 64.0;  // rank labels left of the rows
constexpr double kMargin = 12.0;
constexpr double kTitleHeight = 26.0;
constexpr double kAxisHeight = 48.0;  // axis line, tick labels and the axis title below them
constexpr double kLegendHeight = 30.0;
constexpr double kLegendFont = 12.0;
constexpr double kCharWidth = 0.6;  // average glyph width per pixel of font size (sans-serif)

// Light (direction 0 / first chunk) and dark (direction 1 / second chunk) colour of an op.
struct Shades {
  const char* light;
  const char* dark;
};
constexpr Shades kForward = {"#F5B041", "#C0730C"};
constexpr Shades kBackward = {"#7DD35A", "#3B8A28"};
constexpr Shades kWeight = {"#7CC3F5", "#2A78BA"};
constexpr const char* kIdle = "#FFFFFF";
constexpr const char* kCellBorder = "#555555";

std::string format_number(double value) {
  std::ostringstream out;
  out.precision(6);
  out << (std::abs(value) < 1e-12 ? 0.0 : value);
  return out.str();
}

// Cell fill for an op in shade 0 (light) or 1 (dark). I is the backward green, hatched.
std::string fill_of(Op op, int shade) {
  auto pick = [shade](const Shades& shades) {
    return std::string(shade ? shades.dark : shades.light);
  };
  switch (op) {
    case Op::kF: return pick(kForward);
    case Op::kB: return pick(kBackward);
    case Op::kI: return shade ? "url(#input-backward-dark)" : "url(#input-backward-light)";
    case Op::kW: return pick(kWeight);
    default: return kIdle;
  }
}

const char* text_colour(int shade) { return shade ? "#FFFFFF" : "#000000"; }

// SVG patterns for the hatched I cells.
std::string hatch_patterns() {
  std::string defs = "<defs>\n";
  for (int shade = 0; shade < 2; ++shade) {
    defs +=
        std::string("<pattern id=\"input-backward-") + (shade ? "dark" : "light") +
        "\" patternUnits=\"userSpaceOnUse\" width=\"6\" height=\"6\" "
        "patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"" +
        (shade ? kBackward.dark : kBackward.light) +
        "\"/><rect width=\"2\" height=\"6\" fill=\"#FFFFFF\" fill-opacity=\"0.45\"/></pattern>\n";
  }
  return defs + "</defs>\n";
}

// [direction][stage] -> shade. Two directions: the direction. One direction: the position of the
// stage among the stages of its rank (first chunk light, second dark, alternating after that).
std::vector<std::vector<int>> chunk_shades(const Schedule& schedule) {
  std::vector<std::vector<int>> shades;
  if (schedule.num_directions() >= 2) {
    for (int d = 0; d < schedule.num_directions(); ++d) {
      shades.emplace_back(schedule.stage_rank[static_cast<std::size_t>(d)].size(), d % 2);
    }
    return shades;
  }
  for (const auto& placement : schedule.stage_rank) {
    std::vector<int> seen_on_rank(static_cast<std::size_t>(std::max(schedule.num_ranks, 1)), 0);
    std::vector<int> direction_shades;
    for (int rank : placement) {
      const bool valid = rank >= 0 && rank < schedule.num_ranks;
      direction_shades.push_back(valid ? seen_on_rank[static_cast<std::size_t>(rank)]++ % 2 : 0);
    }
    shades.push_back(std::move(direction_shades));
  }
  return shades;
}

int shade_of(const std::vector<std::vector<int>>& shades, const Chunk& chunk) {
  if (chunk.direction < 0 || chunk.direction >= static_cast<int>(shades.size())) return 0;
  const auto& direction = shades[static_cast<std::size_t>(chunk.direction)];
  if (chunk.stage < 0 || chunk.stage >= static_cast<int>(direction.size())) return 0;
  return direction[static_cast<std::size_t>(chunk.stage)];
}

// Where time and ranks land on the page.
struct Layout {
  double left = kLabelWidth;
  double top = kMargin;
  double row_height = 22.0;
  double start_time = 0.0;  // drawn at x = left
  double span = 1.0;        // time units across the timeline
  double scale = 1.0;       // pixels per time unit
  int rows = 0;

  double x(double time) const { return left + (time - start_time) * scale; }
  double row_y(int rank) const { return top + rank * row_height; }
  double rows_bottom() const { return top + rows * row_height; }
};

// Throws unless every program has one finite timing per action.
void check_timing(const TimedSchedule& timed) {
  const auto& programs = timed.schedule.programs;
  if (timed.timing.size() != programs.size()) {
    throw std::invalid_argument("schedule drawing: timing has " +
                                std::to_string(timed.timing.size()) + " ranks, the schedule " +
                                std::to_string(programs.size()));
  }
  for (std::size_t r = 0; r < programs.size(); ++r) {
    if (timed.timing[r].size() != programs[r].size()) {
      throw std::invalid_argument("schedule drawing: rank " + std::to_string(r) + " has " +
                                  std::to_string(timed.timing[r].size()) + " timings for " +
                                  std::to_string(programs[r].size()) + " actions");
    }
    for (const ActionTiming& timing : timed.timing[r]) {
      if (!std::isfinite(timing.start) || !std::isfinite(timing.duration) || timing.duration < 0) {
        throw std::invalid_argument("schedule drawing: rank " + std::to_string(r) +
                                    " has a non-finite or negative time");
      }
    }
  }
}

Layout make_layout(const TimedSchedule& timed, const ScheduleDrawingOptions& options) {
  Layout layout;
  layout.top = kMargin + (options.title.empty() ? 0.0 : kTitleHeight);
  layout.row_height = options.row_height_px;
  layout.rows = static_cast<int>(timed.schedule.programs.size());
  double first = std::numeric_limits<double>::infinity();
  double last = -std::numeric_limits<double>::infinity();
  for (const auto& rank_timing : timed.timing) {
    for (const ActionTiming& timing : rank_timing) {
      first = std::min(first, timing.start);
      last = std::max(last, timing.end());
    }
  }
  if (first <= last) {
    layout.start_time = first;
    layout.span = last > first ? last - first : 1.0;
  }
  layout.scale = options.timeline_width_px / layout.span;
  return layout;
}

std::string chunk_words(const Chunk& chunk) {
  return "stage " + std::to_string(chunk.stage) + ", micro-batch " +
         std::to_string(chunk.microbatch) + ", direction " + std::to_string(chunk.direction);
}

// Hover text of one cell; " · " separates its lines.
std::string tooltip(const Action& action, int rank, const ActionTiming& timing, double start_time,
                    const std::string& unit) {
  std::string text;
  if (action.op == Op::kFB) {
    text = "FB (overlapped pair) · forward: " + chunk_words(action.chunk) +
           " · backward: " + chunk_words(action.backward);
  } else {
    text = std::string(schedule::op_name(action.op)) + " · " + chunk_words(action.chunk);
  }
  return text + " · rank " + std::to_string(rank) + " · start " +
         format_number(timing.start - start_time) + " " + unit + " · duration " +
         format_number(timing.duration) + " " + unit;
}

// One coloured box with its micro-batch number (when the number fits).
void draw_box(SvgDocument& svg, const Layout& layout, double x, double width, int rank,
              const std::string& fill, int shade, int microbatch) {
  const double y = layout.row_y(rank);
  svg.rect(x, y, width, layout.row_height, fill, kCellBorder);
  const std::string label = std::to_string(microbatch);
  const double font = std::min(12.0, layout.row_height * 0.6);
  if (width >= static_cast<double>(label.size()) * font * kCharWidth + 2.0) {
    svg.text(x + width / 2.0, y + layout.row_height / 2.0 + font * 0.35, label, font, "middle",
             text_colour(shade));
  }
}

void draw_action(SvgDocument& svg, const Layout& layout, const TimedSchedule& timed, int rank,
                 std::size_t position, const std::vector<std::vector<int>>& shades,
                 const ScheduleDrawingOptions& options) {
  const Action& action = timed.schedule.programs[static_cast<std::size_t>(rank)][position];
  if (!schedule::is_compute(action.op)) return;
  const ActionTiming& timing = timed.timing[static_cast<std::size_t>(rank)][position];
  const std::string tip = tooltip(action, rank, timing, layout.start_time, timed.time_unit);
  svg.begin_group(
      {{"class", std::string("cell op-") + schedule::op_name(action.op)}, {"data-tip", tip}});
  if (options.native_tooltips) svg.title(tip);
  const double x = layout.x(timing.start);
  const double width = timing.duration * layout.scale;
  const int shade = shade_of(shades, action.chunk);
  if (action.op != Op::kFB) {
    draw_box(svg, layout, x, width, rank, fill_of(action.op, shade), shade,
             action.chunk.microbatch);
  } else {
    const double forward_width = width * std::clamp(options.overlapped_forward_share, 0.0, 1.0);
    const int backward_shade = shade_of(shades, action.backward);
    draw_box(svg, layout, x, forward_width, rank, fill_of(Op::kF, shade), shade,
             action.chunk.microbatch);
    draw_box(svg, layout, x + forward_width, width - forward_width, rank,
             fill_of(Op::kB, backward_shade), backward_shade, action.backward.microbatch);
    svg.begin_group({{"class", "pair-border"}, {"stroke-width", "1.8"}});
    svg.rect(x, layout.row_y(rank), width, layout.row_height, "none", "#000000");
    svg.end_group();
  }
  svg.end_group();
}

void draw_rows(SvgDocument& svg, const Layout& layout, double timeline_width) {
  for (int rank = 0; rank < layout.rows; ++rank) {
    const double y = layout.row_y(rank);
    svg.rect(layout.left, y, timeline_width, layout.row_height, kIdle, "#CCCCCC");
    svg.text(layout.left - 8.0, y + layout.row_height / 2.0 + 4.0, "rank " + std::to_string(rank),
             12.0, "end");
  }
}

// A step of 1, 2 or 5 times a power of ten giving at most about ten ticks over `span`.
double tick_step(double span) {
  const double raw = span / 10.0;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  for (double multiple : {1.0, 2.0, 5.0}) {
    if (multiple * magnitude >= raw) return multiple * magnitude;
  }
  return 10.0 * magnitude;
}

void draw_axis(SvgDocument& svg, const Layout& layout, double timeline_width,
               const std::string& unit) {
  const double y = layout.rows_bottom() + 6.0;
  svg.line(layout.left, y, layout.left + timeline_width, y, "#000000");
  const double step = tick_step(layout.span);
  for (int i = 0; i * step <= layout.span * (1.0 + 1e-9); ++i) {
    const double x = layout.left + i * step * layout.scale;
    svg.line(x, y, x, y + 5.0, "#000000");
    svg.text(x, y + 17.0, format_number(i * step), 10.0, "middle");
  }
  svg.text(layout.left + timeline_width / 2.0, y + 31.0, "time (" + unit + ")", 10.0, "middle");
}

double text_width(const std::string& text, double font) {
  return static_cast<double>(text.size()) * font * kCharWidth;
}

bool any_dark(const std::vector<std::vector<int>>& shades) {
  for (const auto& direction : shades) {
    if (std::find(direction.begin(), direction.end(), 1) != direction.end()) return true;
  }
  return false;
}

// One legend entry: a swatch of `op` (FB: the split pair cell) in `shade`, and its label.
struct LegendItem {
  Op op;
  int shade;
  std::string label;
};

std::vector<LegendItem> legend_items(const Schedule& schedule, bool shaded) {
  std::vector<LegendItem> items = {{Op::kF, 0, "Forward"},
                                   {Op::kB, 0, "Backward"},
                                   {Op::kI, 0, "Backward for input"},
                                   {Op::kW, 0, "Backward for weights"},
                                   {Op::kFB, 0, "Overlapped forward & backward"}};
  if (shaded) {
    const bool two_directions = schedule.num_directions() >= 2;
    items.push_back(
        {Op::kF, 0,
         two_directions ? "direction 0 (enters at rank 0)" : "first model chunk of a rank"});
    items.push_back({Op::kF, 1,
                     two_directions ? "direction 1 (enters at the last rank)"
                                    : "second model chunk of a rank"});
  }
  return items;
}

constexpr double kSwatch = 16.0;

double legend_item_width(const LegendItem& item) {
  return kSwatch + 6.0 + text_width(item.label, kLegendFont) + 22.0;
}

// Draws the legend in one line from x = left, swatches' top at y.
void draw_legend(SvgDocument& svg, double left, double y, const std::vector<LegendItem>& items) {
  double x = left;
  for (const LegendItem& item : items) {
    if (item.op == Op::kFB) {
      svg.rect(x, y, kSwatch / 2.0, kSwatch, fill_of(Op::kF, 0), kCellBorder);
      svg.rect(x + kSwatch / 2.0, y, kSwatch / 2.0, kSwatch, fill_of(Op::kB, 0), kCellBorder);
      svg.begin_group({{"stroke-width", "1.8"}});
      svg.rect(x, y, kSwatch, kSwatch, "none", "#000000");
      svg.end_group();
    } else {
      svg.rect(x, y, kSwatch, kSwatch, fill_of(item.op, item.shade), kCellBorder);
    }
    svg.text(x + kSwatch + 6.0, y + 12.0, item.label, kLegendFont);
    x += legend_item_width(item);
  }
}

}  // namespace

std::string schedule_svg(const schedule::TimedSchedule& timed,
                         const ScheduleDrawingOptions& options) {
  if (!(options.timeline_width_px > 0.0) || !(options.row_height_px > 0.0)) {
    throw std::invalid_argument("schedule drawing: widths and heights must be positive");
  }
  check_timing(timed);
  const Layout layout = make_layout(timed, options);
  const auto shades = chunk_shades(timed.schedule);
  const double legend_top = layout.rows_bottom() + kAxisHeight;
  const auto legend = legend_items(timed.schedule, any_dark(shades));
  double legend_width = 0.0;
  for (const LegendItem& item : legend) legend_width += legend_item_width(item);
  const double width = std::max(options.timeline_width_px, legend_width) + layout.left + kMargin;
  const double height = legend_top + kLegendHeight;

  SvgDocument svg(width, height);
  svg.rect(0, 0, width, height, "#FFFFFF");
  svg.raw(hatch_patterns());
  if (!options.title.empty()) svg.text(layout.left, kMargin + 14.0, options.title, 15.0);
  draw_rows(svg, layout, options.timeline_width_px);
  svg.begin_group({{"class", "cells"}, {"stroke-width", "0.6"}});
  for (int rank = 0; rank < layout.rows; ++rank) {
    const auto& program = timed.schedule.programs[static_cast<std::size_t>(rank)];
    for (std::size_t i = 0; i < program.size(); ++i) {
      draw_action(svg, layout, timed, rank, i, shades, options);
    }
  }
  svg.end_group();
  draw_axis(svg, layout, options.timeline_width_px, timed.time_unit);
  draw_legend(svg, layout.left, legend_top, legend);
  return svg.str();
}

}  // namespace dualpipe::render
