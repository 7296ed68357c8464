// Schedule drawing: a timed schedule as SVG in the style of the DualPipe paper's figure — one row
// per rank, one cell per action, widths proportional to time, a time axis and a legend.
#pragma once

#include <string>

#include "dualpipe/schedule/schedule.h"

namespace dualpipe::render {

// How a schedule drawing looks. Sizes in pixels.
struct ScheduleDrawingOptions {
  std::string title;                            // caption above the rows; empty for none
  double timeline_width_px = 1400.0;            // width of the whole time span
  double row_height_px = 22.0;                  // height of one rank's row
  double overlapped_forward_share = 1.0 / 3.0;  // part of an FB cell drawn as its forward half
                                                // (e.g. F / (F + B) of the cost model)
  bool native_tooltips = true;                  // a <title> per cell (hover text in SVG viewers)
};

// Draws `timed` (time in timed.time_unit from the earliest start): F orange, B green, I green
// hatched, W blue; the two halves of an FB side by side in one cell with a heavy black border;
// each cell labelled with its micro-batch number when it fits. Direction 1 of DualPipe (and, with
// one direction, a rank's second model chunk, e.g. DualPipeV's stages P..2P-1) is drawn in darker
// shades with white numbers. Communication actions are not drawn. Every cell is a <g> whose
// `data-tip` attribute describes it (op, stage, micro-batch, direction, rank, start, duration).
// Returns the <svg> element text.
std::string schedule_svg(const schedule::TimedSchedule& timed,
                         const ScheduleDrawingOptions& options = {});

}  // namespace dualpipe::render
