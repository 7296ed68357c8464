// Schedule page: a self-contained HTML page showing a timed schedule's drawing, with hover details.
#pragma once

#include <string>

#include "dualpipe/render/schedule_svg.h"
#include "dualpipe/schedule/schedule.h"

namespace dualpipe::render {

// A complete HTML document (no external resources: the SVG, the style and a small script are
// inline) drawing `timed` with schedule_svg() under a heading and a one-line summary (step time,
// busiest and idlest rank). Hovering a cell shows its action, stage, micro-batch, direction, rank,
// start and duration. The page is also well-formed XML after its <!DOCTYPE html> line.
std::string schedule_html(const schedule::TimedSchedule& timed,
                          const ScheduleDrawingOptions& options = {});

}  // namespace dualpipe::render
