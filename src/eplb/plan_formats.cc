#include "dualpipe/eplb/plan_formats.h"

#include <simdjson.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <limits>
#include <map>
#include <stdexcept>

#include "chunked_text.h"
#include "dualpipe/eplb/parse_error.h"
#include "json_errors.h"
#include "yaml_keys.h"

namespace dualpipe::eplb {
namespace {

using detail::ChunkedText;

// A [rows, cols] row-major table as "[[...],\n<indent>[...]]".
void write_rows(ChunkedText& out, const int* table, int rows, int cols, std::string_view indent) {
  out << '[';
  for (int i = 0; i < rows; ++i) {
    if (i) out << ",\n" << indent;
    out.list(table + static_cast<std::ptrdiff_t>(i) * cols, cols);
  }
  out << ']';
}

// One layer's log2phy [experts, max copies] and logcnt [experts] at a time, in reused buffers.
class LayerInverse {
 public:
  explicit LayerInverse(const SlotTable& table)
      : table_(table),
        max_copies_(table.max_copies()),
        log2phy_(static_cast<std::size_t>(table.num_experts) * max_copies_),
        logcnt_(static_cast<std::size_t>(table.num_experts)) {}

  void compute(int layer) {
    layer_log2phy(table_, layer, max_copies_, log2phy_.data(), logcnt_.data());
  }
  int max_copies() const { return max_copies_; }
  const int* log2phy() const { return log2phy_.data(); }
  const int* logcnt() const { return logcnt_.data(); }

 private:
  const SlotTable& table_;
  int max_copies_;
  std::vector<int> log2phy_;
  std::vector<int> logcnt_;
};

void write_json(ChunkedText& out, const PlanDocument& d) {
  const PlanParameters& p = d.parameters;
  const SlotTable& t = d.slots;
  out << "{\n  \"policy\": \"" << d.policy << "\",\n";
  out << "  \"replicas\": " << p.replicas << ", \"groups\": " << p.groups
      << ", \"nodes\": " << p.nodes << ", \"gpus\": " << p.gpus << ",\n";
  if (d.replicas_moved) out << "  \"replicas_moved\": " << *d.replicas_moved << ",\n";
  out << "  \"phy2log\": ";
  write_rows(out, t.phy2log.data(), t.num_layers, t.num_replicas, "    ");
  LayerInverse inverse(t);
  out << ",\n  \"log2phy\": [";
  for (int l = 0; l < t.num_layers; ++l) {
    if (l) out << ",\n    ";
    inverse.compute(l);
    write_rows(out, inverse.log2phy(), t.num_experts, inverse.max_copies(), "     ");
  }
  out << "],\n  \"logcnt\": [";
  for (int l = 0; l < t.num_layers; ++l) {
    if (l) out << ",\n    ";
    inverse.compute(l);
    out.list(inverse.logcnt(), t.num_experts);
  }
  out << "],\n  \"layers\": [";
  for (std::size_t l = 0; l < d.statistics.size(); ++l) {
    const LayerStatistics& s = d.statistics[l];
    out << (l ? ",\n    " : "\n    ") << "{\"layer\": " << static_cast<int>(l)
        << ", \"max_gpu_load\": " << s.max_gpu_load << ", \"mean_gpu_load\": " << s.mean_gpu_load
        << ", \"lower_bound\": " << s.lower_bound.value()
        << ", \"lower_bound_global\": " << s.lower_bound.global;
    if (s.lower_bound.hierarchical > 0.0)
      out << ", \"lower_bound_hierarchical\": " << s.lower_bound.hierarchical;
    out << ", \"gap\": " << s.gap() << ", \"balancedness\": " << s.balancedness() << '}';
  }
  out << "]\n}\n";
}

void write_sglang(ChunkedText& out, const PlanDocument& d) {
  out << "{\"physical_to_logical_map\": ";
  write_rows(out, d.slots.phy2log.data(), d.slots.num_layers, d.slots.num_replicas, "  ");
  out << "}\n";
}

void write_yaml(ChunkedText& out, const PlanDocument& d) {
  const PlanParameters& p = d.parameters;
  const SlotTable& t = d.slots;
  out << "policy: " << d.policy << "\nreplicas: " << p.replicas << "\ngroups: " << p.groups
      << "\nnodes: " << p.nodes << "\ngpus: " << p.gpus << '\n';
  if (d.replicas_moved) out << "replicas_moved: " << *d.replicas_moved << '\n';
  out << "phy2log:\n";
  for (int l = 0; l < t.num_layers; ++l) {
    out << "  - ";
    out.list(t.layer_phy2log(l), t.num_replicas);
    out << '\n';
  }
  LayerInverse inverse(t);
  out << "log2phy:\n";
  for (int l = 0; l < t.num_layers; ++l) {
    inverse.compute(l);
    out << "  - [";
    for (int e = 0; e < t.num_experts; ++e) {
      if (e) out << ", ";
      out.list(inverse.log2phy() + static_cast<std::ptrdiff_t>(e) * inverse.max_copies(),
               inverse.max_copies());
    }
    out << "]\n";
  }
  out << "logcnt:\n";
  for (int l = 0; l < t.num_layers; ++l) {
    inverse.compute(l);
    out << "  - ";
    out.list(inverse.logcnt(), t.num_experts);
    out << '\n';
  }
  if (!d.statistics.empty()) out << "layers:\n";
  for (std::size_t l = 0; l < d.statistics.size(); ++l) {
    const LayerStatistics& s = d.statistics[l];
    out << "  - {layer: " << static_cast<int>(l) << ", max_gpu_load: " << s.max_gpu_load
        << ", mean_gpu_load: " << s.mean_gpu_load << ", lower_bound: " << s.lower_bound.value()
        << ", gap: " << s.gap() << ", balancedness: " << s.balancedness() << "}\n";
  }
}

void write_csv(ChunkedText& out, const PlanDocument& d) {
  for (int l = 0; l < d.slots.num_layers; ++l) {
    const int* row = d.slots.layer_phy2log(l);
    for (int i = 0; i < d.slots.num_replicas; ++i) {
      if (i) out << ',';
      out << row[i];
    }
    out << '\n';
  }
}

void write_trtllm(ChunkedText& out, const PlanDocument& d) {
  out << "initial_global_assignments:\n";
  for (int l = 0; l < d.slots.num_layers; ++l) {
    out << "  " << d.first_layer + l << ": ";
    out.list(d.slots.layer_phy2log(l), d.slots.num_replicas);
    out << '\n';
  }
  out << "num_slots: " << d.parameters.replicas << "\nlayer_updates_per_iter: 0\n";
}

// --- reading ---

int expert_id(double value, const std::string& where) {
  if (!(value >= 0.0 && value < 1e9) || value != static_cast<double>(static_cast<int>(value))) {
    throw ParseError(where + ": expected an expert id (an integer >= 0)");
  }
  return static_cast<int>(value);
}

std::vector<std::vector<int>> json_phy2log(std::string_view content) {
  simdjson::dom::parser parser;
  const simdjson::padded_string padded(content.data(), content.size());
  simdjson::dom::element root;
  if (const auto error = parser.parse(padded).get(root)) {
    detail::throw_json_syntax_error(content, error);
  }
  detail::check_unique_keys(root);
  simdjson::dom::element rows_value;
  std::string key = "phy2log";
  if (root["phy2log"].get(rows_value)) {
    key = "physical_to_logical_map";
    if (root["physical_to_logical_map"].get(rows_value)) {
      throw ParseError("$: expected an object with \"phy2log\" or \"physical_to_logical_map\"");
    }
  }
  simdjson::dom::array rows;
  if (rows_value.get_array().get(rows)) throw ParseError(key + ": expected an array of layer rows");
  std::vector<std::vector<int>> result;
  for (simdjson::dom::element row_value : rows) {
    const std::string row_path = key + "[" + std::to_string(result.size()) + "]";
    simdjson::dom::array row;
    if (row_value.get_array().get(row))
      throw ParseError(row_path + ": expected an array of expert ids");
    std::vector<int> ids;
    for (simdjson::dom::element id : row) {
      const std::string where = row_path + "[" + std::to_string(ids.size()) + "]";
      double value = 0.0;
      if (id.is_int64()) {
        value = static_cast<double>(int64_t(id));
      } else if (id.get_double().get(value)) {
        throw ParseError(where + ": expected an expert id (an integer >= 0)");
      }
      ids.push_back(expert_id(value, where));
    }
    result.push_back(std::move(ids));
  }
  return result;
}

std::vector<int> yaml_row(const YAML::Node& node) {
  auto where = [](const YAML::Node& n) {
    return "line " + std::to_string(n.Mark().line + 1) + ", column " +
           std::to_string(n.Mark().column + 1);
  };
  if (!node.IsSequence()) throw ParseError(where(node) + ": expected a sequence of expert ids");
  std::vector<int> ids;
  for (const YAML::Node& id : node) {
    double value = -1.0;
    const std::string text = id.IsScalar() ? id.Scalar() : std::string();
    const auto parsed = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || parsed.ec != std::errc() || parsed.ptr != text.data() + text.size()) {
      throw ParseError(where(id) + ": expected an expert id (an integer >= 0)");
    }
    ids.push_back(expert_id(value, where(id)));
  }
  return ids;
}

std::vector<std::vector<int>> yaml_phy2log(std::string_view content) {
  try {
    const YAML::Node root = YAML::Load(std::string(content));
    detail::check_unique_map_keys(root);
    std::vector<std::vector<int>> result;
    if (root.IsMap() && root["phy2log"]) {
      for (const YAML::Node& row : root["phy2log"]) result.push_back(yaml_row(row));
      return result;
    }
    if (root.IsMap() && root["initial_global_assignments"]) {
      std::map<long long, std::vector<int>> by_layer;
      for (const auto& entry : root["initial_global_assignments"]) {
        by_layer[entry.first.as<long long>()] = yaml_row(entry.second);
      }
      for (auto& [layer, row] : by_layer) result.push_back(std::move(row));
      return result;
    }
    throw ParseError(
        "line 1, column 1: expected a \"phy2log\" or \"initial_global_assignments\" key");
  } catch (const YAML::Exception& error) {
    throw ParseError("line " + std::to_string(error.mark.line + 1) + ", column " +
                     std::to_string(error.mark.column + 1) + ": invalid plan YAML: " + error.msg);
  }
}

std::vector<std::vector<int>> csv_phy2log(std::string_view content) {
  std::vector<std::vector<int>> result;
  std::size_t line_number = 0, position = 0;
  while (position < content.size()) {
    std::size_t end = content.find('\n', position);
    if (end == std::string_view::npos) end = content.size();
    const std::string_view line = content.substr(position, end - position);
    ++line_number;
    position = end + 1;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    std::vector<int> ids;
    std::size_t start = 0;
    while (start <= line.size()) {
      std::size_t comma = line.find(',', start);
      if (comma == std::string_view::npos) comma = line.size();
      std::string field(line.substr(start, comma - start));
      field.erase(0, field.find_first_not_of(" \t\r"));
      field.erase(field.find_last_not_of(" \t\r") + 1);
      int value = -1;
      const auto parsed = std::from_chars(field.data(), field.data() + field.size(), value);
      if (field.empty() || parsed.ec != std::errc() || parsed.ptr != field.data() + field.size() ||
          value < 0) {
        throw ParseError("line " + std::to_string(line_number) + ", column " +
                         std::to_string(start + 1) + ": expected an expert id (an integer >= 0)");
      }
      ids.push_back(value);
      start = comma + 1;
    }
    result.push_back(std::move(ids));
  }
  return result;
}

// Layer numbers first_layer .. first_layer + layers - 1 must be valid non-negative ints.
void check_first_layer(const PlanDocument& document) {
  const int layers = std::max(document.slots.num_layers, 1);
  const int most = std::numeric_limits<int>::max() - (layers - 1);
  if (document.first_layer < 0 || document.first_layer > most) {
    throw std::invalid_argument("--first-layer must be between 0 and " + std::to_string(most) +
                                " for " + std::to_string(layers) + " layers (got " +
                                std::to_string(document.first_layer) + ")");
  }
}

}  // namespace

PlanFormat parse_plan_format(const std::string& name) {
  if (name == "json") return PlanFormat::kJson;
  if (name == "yaml") return PlanFormat::kYaml;
  if (name == "csv") return PlanFormat::kCsv;
  if (name == "sglang") return PlanFormat::kSglang;
  if (name == "trtllm") return PlanFormat::kTrtllm;
  throw std::invalid_argument("--format '" + name +
                              "': expected json, yaml, csv, sglang or trtllm");
}

void write_plan(const PlanDocument& document, PlanFormat format, const TextSink& sink) {
  check_first_layer(document);
  ChunkedText out(sink);
  switch (format) {
    case PlanFormat::kJson: write_json(out, document); break;
    case PlanFormat::kSglang: write_sglang(out, document); break;
    case PlanFormat::kYaml: write_yaml(out, document); break;
    case PlanFormat::kCsv: write_csv(out, document); break;
    case PlanFormat::kTrtllm: write_trtllm(out, document); break;
  }
  out.flush();
}

std::string format_plan(const PlanDocument& document, PlanFormat format) {
  std::string text;
  write_plan(document, format, [&](std::string_view piece) { text += piece; });
  return text;
}

std::vector<std::vector<int>> parse_plan_phy2log(std::string_view content) {
  content = without_utf8_bom(content);
  check_no_nul_bytes(content);
  const std::size_t first = content.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) throw ParseError("line 1, column 1: empty plan file");
  std::vector<std::vector<int>> rows;
  if (content[first] == '{' || content[first] == '[') {
    rows = json_phy2log(content);
  } else if (content.substr(first).find(':') != std::string_view::npos) {
    rows = yaml_phy2log(content);
  } else {
    rows = csv_phy2log(content);
  }
  if (rows.empty() || rows[0].empty()) throw ParseError("line 1, column 1: the plan has no slots");
  return rows;
}

}  // namespace dualpipe::eplb
