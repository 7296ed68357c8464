#include "dualpipe/render/schedule_html.h"

#include <algorithm>
#include <sstream>

#include "dualpipe/render/svg_document.h"
#include "dualpipe/schedule/simulator.h"

namespace dualpipe::render {
namespace {

// Inline style. No '<' or '&' here or in the script, so the page stays well-formed XML.
constexpr const char* kStyle = R"(
body { font-family: sans-serif; margin: 16px; color: #111; }
h1 { font-size: 18px; margin: 0 0 6px 0; }
p.summary { font-size: 13px; margin: 0 0 10px 0; color: #333; }
#chart { overflow-x: auto; }
g.cell:hover rect { opacity: 0.7; }
#tip { position: absolute; display: none; white-space: pre; pointer-events: none;
       background: #222; color: #fff; padding: 6px 8px; border-radius: 4px; font-size: 12px; }
)";

// Shows a cell's data-tip (lines separated by " · ") next to the pointer.
constexpr const char* kScript = R"(
(function () {
  var tip = document.getElementById('tip');
  var chart = document.getElementById('chart');
  chart.addEventListener('mousemove', function (event) {
    var cell = event.target.closest('[data-tip]');
    if (!cell) { tip.style.display = 'none'; return; }
    tip.textContent = cell.getAttribute('data-tip').split(' \u00b7 ').join('\n');
    tip.style.display = 'block';
    tip.style.left = (event.pageX + 14) + 'px';
    tip.style.top = (event.pageY + 14) + 'px';
  });
  chart.addEventListener('mouseleave', function () { tip.style.display = 'none'; });
})();
)";

std::string summary_line(const schedule::TimedSchedule& timed) {
  const schedule::ScheduleSummary summary = schedule::summarize(timed);
  std::ostringstream line;
  line.precision(6);
  line << timed.schedule.num_ranks << " ranks, " << timed.schedule.num_stages << " stages, "
       << timed.schedule.num_microbatches << " micro-batches; step time " << summary.step_time
       << " " << timed.time_unit;
  const auto& bubbles = summary.bubble_per_rank;
  if (!bubbles.empty()) {
    const auto [least, most] = std::minmax_element(bubbles.begin(), bubbles.end());
    line << "; bubble per rank from " << *least << " (rank " << (least - bubbles.begin()) << ") to "
         << *most << " (rank " << (most - bubbles.begin()) << ")";
  }
  return line.str();
}

}  // namespace

std::string schedule_html(const schedule::TimedSchedule& timed,
                          const ScheduleDrawingOptions& options) {
  ScheduleDrawingOptions drawing = options;
  drawing.native_tooltips = false;  // the script shows the tips
  const std::string heading =
      options.title.empty() ? timed.schedule.name + " schedule" : options.title;
  drawing.title.clear();  // the page has its own heading
  std::ostringstream page;
  page << "<!DOCTYPE html>\n"
       << "<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n<title>" << xml_escape(heading)
       << "</title>\n<style>" << kStyle << "</style>\n</head>\n<body>\n<h1>" << xml_escape(heading)
       << "</h1>\n<p class=\"summary\">" << xml_escape(summary_line(timed))
       << "</p>\n<div id=\"chart\">\n"
       << schedule_svg(timed, drawing) << "</div>\n<div id=\"tip\"></div>\n<script>" << kScript
       << "</script>\n</body>\n</html>\n";
  return page.str();
}

}  // namespace dualpipe::render
