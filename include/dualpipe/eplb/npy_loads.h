// NumPy .npy load files: 2-D [layers, experts] or 3-D [steps, layers, experts] arrays.
#pragma once

#include <string>
#include <string_view>

#include "dualpipe/eplb/load_matrix.h"

namespace dualpipe::eplb {

// Parses .npy bytes (format versions 1-3; float32, float64, int32 or int64 of either byte order; C or
// Fortran order). Throws ParseError naming the header field or the element at fault.
LoadSeries parse_npy_loads(std::string_view bytes);

// .npy bytes (version 1.0, little-endian float32, C order) that parse_npy_loads reads back exactly;
// 2-D for one step, else 3-D.
std::string format_npy_loads(const LoadSeries& series);

}  // namespace dualpipe::eplb
