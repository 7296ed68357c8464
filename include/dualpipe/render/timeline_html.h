// Timeline drawing as one self-contained HTML page: the lanes of the SVG drawing on a canvas that
// zooms (wheel), pans (drag) and shows each bar's details on hover. No external resources.
#pragma once

#include <string>

#include "dualpipe/render/timeline_layout.h"

namespace dualpipe::render {

// The page's data: {"start_ms", "end_ms", "labels": [...], "palette": [...], "kinds": [...],
// "captions": [...], "lanes": [{"title", "rank", "kind", "bars": [start_ms, end_ms, colour index,
// label index, kind index, ...]}]} (bars flattened, five numbers each).
std::string timeline_data_json(const TimelineLayout& layout);

// The whole page (<!DOCTYPE html> ... </html>) embedding timeline_data_json(layout).
std::string timeline_html(const TimelineLayout& layout);

}  // namespace dualpipe::render
