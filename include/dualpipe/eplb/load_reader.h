// Reading load files of any supported format, chosen by extension and content.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "dualpipe/eplb/load_matrix.h"

namespace dualpipe::eplb {

// The load file formats.
enum class LoadFormat { kCsv, kJson, kYaml, kNpy };

// The format of `content` named `file_name`: the NumPy magic bytes mean .npy; else the extension
// (.csv, .json, .yaml/.yml, .npy); else '[' or '{' first means JSON, a YAML marker ("- ", "---",
// "key:") means YAML, anything else CSV.
LoadFormat detect_load_format(std::string_view content, const std::string& file_name);

// Whether `content` named `file_name` is a torch.save file, such as SGLang's expert-distribution
// dump: a .pt name or a zip archive. The library does not unpickle those; callers that can (the
// LibTorch plugin of eplb-plan, the Python module) pass the values to series_from_values.
bool is_torch_save_file(std::string_view content, const std::string& file_name);

// A series from a dense row-major float64 array [steps, layers, experts], every value checked as
// checked_load does. Throws ParseError "<name>[step][layer][expert]: ..." at the first bad value.
LoadSeries series_from_values(const double* values, std::int64_t steps, std::int64_t layers,
                              std::int64_t experts, const std::string& name);

// Parses `content` in its detected format and validates the series (validate_series). Throws
// ParseError (position in the message, file name not included).
LoadSeries parse_loads(std::string_view content, const std::string& file_name);

}  // namespace dualpipe::eplb
