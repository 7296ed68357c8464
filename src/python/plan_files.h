// Load files and plan files for Python: read as eplb-plan reads them, written as it writes them.
#pragma once

#include <string>
#include <vector>

#include "dualpipe/eplb/load_matrix.h"

namespace dualpipe::python {

// The load series in the file at `path`: CSV, JSON, YAML or .npy (detected as eplb-plan detects
// them), or an SGLang expert-distribution dump (a .pt file or zip archive, unpickled with
// torch.load(weights_only=True) and its "logical_count" taken). The file is opened by Python, so
// a missing file raises its FileNotFoundError; content that is not loads throws
// std::invalid_argument "PATH: message" with the message eplb-plan prints.
eplb::LoadSeries read_load_series(const std::string& path);

// The phy2log rows of a plan file in any format eplb-plan writes; throws as read_load_series.
std::vector<std::vector<int>> read_plan_rows(const std::string& path);

// Writes `text` to `path` through a temporary file in the same folder renamed over it, so that a
// failed write leaves the old file. Throws OSError (through Python) when writing fails.
void write_text_file(const std::string& path, const std::string& text);

}  // namespace dualpipe::python
