// Reading load files of any supported format, chosen by extension and content.
#pragma once

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

// Parses `content` in its detected format and validates the series (validate_series). Throws
// ParseError (position in the message, file name not included).
LoadSeries parse_loads(std::string_view content, const std::string& file_name);

}  // namespace dualpipe::eplb
