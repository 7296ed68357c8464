// Reading SGLang's expert-distribution dumps (.pt files written by torch.save): their "logical_count"
// tensor. Built only with LibTorch; the eplb library itself never depends on it.
#pragma once

#include <string>

#include "dualpipe/eplb/load_matrix.h"

namespace dualpipe::apps {

// Whether `path`/`content` is a torch.save file (.pt extension or a zip archive).
bool is_torch_file(const std::string& path, const std::string& content);

// The "logical_count" of an SGLang dump as a load series ([steps, layers, experts] or one
// [layers, experts] step). Throws std::runtime_error "PATH: ..." on anything else.
dualpipe::eplb::LoadSeries read_sglang_dump(const std::string& path, const std::string& content);

}  // namespace dualpipe::apps
