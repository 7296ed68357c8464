// Reading SGLang's expert-distribution dumps (.pt files written by torch.save): their
// "logical_count" tensor, through the LibTorch plugin (pt_plugin_abi.h) loaded on first use;
// eplb-plan itself never links LibTorch.
#pragma once

#include <string>
#include <string_view>

#include "dualpipe/eplb/load_matrix.h"

namespace dualpipe::apps {

// The "logical_count" of an SGLang dump as a load series ([steps, layers, experts] or one
// [layers, experts] step). The plugin is looked for in $DUALPIPE_PLUGIN_DIR when that is set, else
// next to the executable (build tree) and in the install tree's plugin folder. Throws
// std::runtime_error "PATH: ..." when the plugin is absent or the file is not such a dump.
dualpipe::eplb::LoadSeries read_sglang_dump(const std::string& path, std::string_view content);

}  // namespace dualpipe::apps
