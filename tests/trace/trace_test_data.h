// Paths and helpers shared by the trace tests: the hand-made traces in tests/data/trace/, the
// optional real traces (../shared/data, profiles/), and parsing JSON written inline.
#pragma once

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "dualpipe/trace/chrome_trace.h"
#include "dualpipe/trace/trace_text.h"

namespace dualpipe::trace::testing {

// A hand-made trace under tests/data/trace/.
inline std::string data_path(const std::string& name) {
  return std::string(DUALPIPE_SOURCE_DIR) + "/tests/data/trace/" + name;
}

// DeepSeek's published training trace, when present (else empty): $DUALPIPE_TRAIN_TRACE, else
// ../shared/data/profile-data/train.json beside the source tree.
inline std::string deepseek_train_trace() {
  const char* given = std::getenv("DUALPIPE_TRAIN_TRACE");
  const std::string path =
      given != nullptr && *given != '\0'
          ? std::string(given)
          : std::string(DUALPIPE_SOURCE_DIR) + "/../shared/data/profile-data/train.json";
  return std::filesystem::exists(path) ? path : std::string();
}

// Traces this toolkit recorded on GPUs (profiles/*.json, *.json.gz), in name order.
inline std::vector<std::string> recorded_traces() {
  std::vector<std::string> paths;
  const std::filesystem::path dir = std::string(DUALPIPE_SOURCE_DIR) + "/profiles";
  if (!std::filesystem::is_directory(dir)) return paths;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    const auto ends_with = [&name](const std::string& tail) {
      return name.size() >= tail.size() &&
             name.compare(name.size() - tail.size(), tail.size(), tail) == 0;
    };
    const bool trace =
        name.find("trace") != std::string::npos && (ends_with(".json") || ends_with(".json.gz"));
    if (entry.is_regular_file() && trace) paths.push_back(entry.path().string());
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

// The traces of one recorded run in profiles/ (e.g. "dualpipe_step_h200x2": its _rank<r> files),
// in rank order; empty when absent.
inline std::vector<std::string> recorded_run(const std::string& run) {
  std::vector<std::string> paths;
  for (int rank = 0;; ++rank) {
    const std::string path = std::string(DUALPIPE_SOURCE_DIR) + "/profiles/" + run + "_rank" +
                             std::to_string(rank) + ".json.gz";
    if (!std::filesystem::exists(path)) break;
    paths.push_back(path);
  }
  return paths;
}

// Parses JSON text given inline.
inline ProfileTrace parse(std::string_view json) {
  return parse_chrome_trace(TraceText::copy_of(json), "inline.json");
}

// Parses a file under tests/data/trace/.
inline ProfileTrace parse_file(const std::string& name) {
  const std::string path = data_path(name);
  return parse_chrome_trace(TraceText::load_file(path), path);
}

}  // namespace dualpipe::trace::testing
