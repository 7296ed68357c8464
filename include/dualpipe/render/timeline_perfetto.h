// Timeline export as a cleaned Chrome/Perfetto trace: one track per lane of the drawing, the
// annotations already in GPU time, and an overlap counter per rank.
#pragma once

#include <string>

#include "dualpipe/render/timeline_layout.h"

namespace dualpipe::render {

// Chrome-trace JSON for ui.perfetto.dev or chrome://tracing: one process per rank ("rank R"),
// one thread per lane (named by its title, in drawing order), one "X" event per bar (timestamps
// in microseconds since the layout's origin, args.kind = bar_kind_name), and per rank a counter
// "communication overlap" with series "under_compute" and "exposed" (1 while that kind of
// communication runs, else 0).
std::string timeline_perfetto_json(const TimelineLayout& layout);

}  // namespace dualpipe::render
