#include "dualpipe/eplb/plan_formats.h"

#include <simdjson.h>
#include <yaml-cpp/yaml.h>

#include <charconv>
#include <map>
#include <stdexcept>

#include "dualpipe/eplb/parse_error.h"

namespace dualpipe::eplb {
namespace {

void append_number(std::string& out, int value) {
  char buffer[16];
  out.append(buffer, std::to_chars(buffer, buffer + sizeof buffer, value).ptr);
}

// Appends "[a, b, c]".
void append_list(std::string& out, const std::vector<int>& values) {
  out += '[';
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i) out += ", ";
    append_number(out, values[i]);
  }
  out += ']';
}

std::string flow_list(const std::vector<int>& values) {
  std::string out;
  append_list(out, values);
  return out;
}

// Appends rows as "[[...],\n<indent>[...]]".
void append_rows(std::string& out, const std::vector<std::vector<int>>& rows, const char* indent) {
  out += '[';
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (i) (out += ",\n") += indent;
    append_list(out, rows[i]);
  }
  out += ']';
}

std::string json_rows(const std::vector<std::vector<int>>& rows, const char* indent) {
  std::string out;
  append_rows(out, rows, indent);
  return out;
}

std::string json_plan(const PlanDocument& d, bool sglang) {
  if (sglang) return "{\"physical_to_logical_map\": " + json_rows(d.placement.phy2log, "  ") + "}\n";
  const PlanParameters& p = d.parameters;
  std::string text = "{\n  \"policy\": \"" + d.policy + "\",\n";
  text += "  \"replicas\": " + std::to_string(p.replicas) + ", \"groups\": " + std::to_string(p.groups) +
          ", \"nodes\": " + std::to_string(p.nodes) + ", \"gpus\": " + std::to_string(p.gpus) + ",\n";
  if (d.replicas_moved) text += "  \"replicas_moved\": " + std::to_string(*d.replicas_moved) + ",\n";
  text += "  \"phy2log\": " + json_rows(d.placement.phy2log, "    ") + ",\n";
  text += "  \"log2phy\": [";
  for (std::size_t l = 0; l < d.placement.log2phy.size(); ++l) {
    if (l) text += ",\n    ";
    append_rows(text, d.placement.log2phy[l], "     ");
  }
  text += "],\n  \"logcnt\": " + json_rows(d.placement.logcnt, "    ");
  text += ",\n  \"layers\": [";
  for (std::size_t l = 0; l < d.statistics.size(); ++l) {
    const LayerStatistics& s = d.statistics[l];
    text += std::string(l ? ",\n    " : "\n    ") + "{\"layer\": " + std::to_string(l) +
            ", \"max_gpu_load\": " + format_number(s.max_gpu_load) +
            ", \"mean_gpu_load\": " + format_number(s.mean_gpu_load) +
            ", \"lower_bound\": " + format_number(s.lower_bound.value()) +
            ", \"lower_bound_global\": " + format_number(s.lower_bound.global) +
            (s.lower_bound.hierarchical > 0.0
                 ? ", \"lower_bound_hierarchical\": " + format_number(s.lower_bound.hierarchical)
                 : std::string()) +
            ", \"gap\": " + format_number(s.gap()) + ", \"balancedness\": " + format_number(s.balancedness()) + "}";
  }
  return text + "]\n}\n";
}

std::string yaml_plan(const PlanDocument& d) {
  const PlanParameters& p = d.parameters;
  std::string text = "policy: " + d.policy + "\nreplicas: " + std::to_string(p.replicas) +
                     "\ngroups: " + std::to_string(p.groups) + "\nnodes: " + std::to_string(p.nodes) +
                     "\ngpus: " + std::to_string(p.gpus) + "\n";
  if (d.replicas_moved) text += "replicas_moved: " + std::to_string(*d.replicas_moved) + "\n";
  text += "phy2log:\n";
  for (const auto& row : d.placement.phy2log) text += "  - " + flow_list(row) + "\n";
  text += "log2phy:\n";
  for (const auto& layer : d.placement.log2phy) {
    text += "  - [";
    for (std::size_t e = 0; e < layer.size(); ++e) {
      if (e) text += ", ";
      append_list(text, layer[e]);
    }
    text += "]\n";
  }
  text += "logcnt:\n";
  for (const auto& row : d.placement.logcnt) text += "  - " + flow_list(row) + "\n";
  if (!d.statistics.empty()) text += "layers:\n";
  for (std::size_t l = 0; l < d.statistics.size(); ++l) {
    const LayerStatistics& s = d.statistics[l];
    text += "  - {layer: " + std::to_string(l) + ", max_gpu_load: " + format_number(s.max_gpu_load) +
            ", mean_gpu_load: " + format_number(s.mean_gpu_load) +
            ", lower_bound: " + format_number(s.lower_bound.value()) +
            ", gap: " + format_number(s.gap()) + ", balancedness: " + format_number(s.balancedness()) + "}\n";
  }
  return text;
}

std::string csv_plan(const PlanDocument& d) {
  std::string text;
  for (const auto& row : d.placement.phy2log) {
    for (std::size_t i = 0; i < row.size(); ++i) text += (i ? "," : "") + std::to_string(row[i]);
    text += "\n";
  }
  return text;
}

std::string trtllm_plan(const PlanDocument& d) {
  std::string text = "initial_global_assignments:\n";
  for (std::size_t l = 0; l < d.placement.phy2log.size(); ++l) {
    text += "  " + std::to_string(d.first_layer + static_cast<int>(l)) + ": " +
            flow_list(d.placement.phy2log[l]) + "\n";
  }
  return text + "num_slots: " + std::to_string(d.parameters.replicas) + "\nlayer_updates_per_iter: 0\n";
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
    throw ParseError(std::string("invalid JSON: ") + simdjson::error_message(error));
  }
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
    if (row_value.get_array().get(row)) throw ParseError(row_path + ": expected an array of expert ids");
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
    return "line " + std::to_string(n.Mark().line + 1) + ", column " + std::to_string(n.Mark().column + 1);
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
    throw ParseError("line 1, column 1: expected a \"phy2log\" or \"initial_global_assignments\" key");
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
      if (field.empty() || parsed.ec != std::errc() || parsed.ptr != field.data() + field.size() || value < 0) {
        throw ParseError("line " + std::to_string(line_number) + ", column " + std::to_string(start + 1) +
                         ": expected an expert id (an integer >= 0)");
      }
      ids.push_back(value);
      start = comma + 1;
    }
    result.push_back(std::move(ids));
  }
  return result;
}

}  // namespace

PlanFormat parse_plan_format(const std::string& name) {
  if (name == "json") return PlanFormat::kJson;
  if (name == "yaml") return PlanFormat::kYaml;
  if (name == "csv") return PlanFormat::kCsv;
  if (name == "sglang") return PlanFormat::kSglang;
  if (name == "trtllm") return PlanFormat::kTrtllm;
  throw std::invalid_argument("--format '" + name + "': expected json, yaml, csv, sglang or trtllm");
}

std::string format_plan(const PlanDocument& document, PlanFormat format) {
  switch (format) {
    case PlanFormat::kJson: return json_plan(document, false);
    case PlanFormat::kSglang: return json_plan(document, true);
    case PlanFormat::kYaml: return yaml_plan(document);
    case PlanFormat::kCsv: return csv_plan(document);
    case PlanFormat::kTrtllm: return trtllm_plan(document);
  }
  return {};
}

std::vector<std::vector<int>> parse_plan_phy2log(std::string_view content) {
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
