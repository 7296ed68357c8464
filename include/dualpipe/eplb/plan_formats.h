// Plan files: writing a placement as JSON, YAML, CSV, SGLang or TensorRT-LLM input, and reading one
// back.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dualpipe/eplb/plan_parameters.h"
#include "dualpipe/eplb/slot_table.h"
#include "dualpipe/eplb/statistics.h"

namespace dualpipe::eplb {

// The output formats: kJson (phy2log, log2phy, logcnt, parameters, policy, per-layer statistics),
// kYaml (the same), kCsv (phy2log, one row per layer), kSglang (an --init-expert-location file:
// {"physical_to_logical_map": ...}), kTrtllm (TensorRT-LLM's load-balancer YAML:
// initial_global_assignments per layer, num_slots, layer_updates_per_iter).
enum class PlanFormat { kJson, kYaml, kCsv, kSglang, kTrtllm };

// Parses "json", "yaml", "csv", "sglang" or "trtllm"; throws std::invalid_argument otherwise.
PlanFormat parse_plan_format(const std::string& name);

// Everything a plan file may carry.
struct PlanDocument {
  SlotTable slots;
  PlanParameters parameters;
  std::string policy;
  std::vector<LayerStatistics> statistics;  // one per layer, or empty
  std::optional<int> replicas_moved;        // when re-planned from a previous plan
  int first_layer = 0;                      // layer number of row 0 (TensorRT-LLM keys)
};

// Receives a file's text piece by piece, in order.
using TextSink = std::function<void(std::string_view)>;

// Streams the file text of `document` in `format` to `sink` in pieces of about 16 KiB, built in one
// reused buffer (a plan of 58 layers x 288 slots is about 0.8 MB of JSON). Throws
// std::invalid_argument, before writing anything, unless first_layer >= 0 and the last layer
// number fits an int.
void write_plan(const PlanDocument& document, PlanFormat format, const TextSink& sink);

// The whole file text of `document` in `format` (what write_plan streams).
std::string format_plan(const PlanDocument& document, PlanFormat format);

// phy2log rows of a plan file in any of the formats above (JSON "phy2log" or
// "physical_to_logical_map", YAML "phy2log" or "initial_global_assignments", CSV rows), detected
// from the content. Throws ParseError naming the position of the first problem.
std::vector<std::vector<int>> parse_plan_phy2log(std::string_view content);

}  // namespace dualpipe::eplb
