#include "dualpipe/eplb/load_reader.h"

#include <algorithm>
#include <cctype>

#include "dualpipe/eplb/csv_loads.h"
#include "dualpipe/eplb/json_loads.h"
#include "dualpipe/eplb/npy_loads.h"
#include "dualpipe/eplb/parse_error.h"
#include "dualpipe/eplb/yaml_loads.h"

namespace dualpipe::eplb {
namespace {

bool ends_with(const std::string& text, const std::string& suffix) {
  if (text.size() < suffix.size()) return false;
  return std::equal(suffix.rbegin(), suffix.rend(), text.rbegin(), [](char a, char b) {
    return a == std::tolower(static_cast<unsigned char>(b));
  });
}

}  // namespace

LoadFormat detect_load_format(std::string_view content, const std::string& file_name) {
  content = without_utf8_bom(content);
  if (content.substr(0, 6) == std::string_view("\x93NUMPY", 6)) return LoadFormat::kNpy;
  if (ends_with(file_name, ".npy")) return LoadFormat::kNpy;
  if (ends_with(file_name, ".csv")) return LoadFormat::kCsv;
  if (ends_with(file_name, ".json")) return LoadFormat::kJson;
  if (ends_with(file_name, ".yaml") || ends_with(file_name, ".yml")) return LoadFormat::kYaml;
  const std::size_t first = content.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return LoadFormat::kCsv;
  if (content[first] == '[' || content[first] == '{') return LoadFormat::kJson;
  const std::string_view rest = content.substr(first);
  const std::size_t line_end = rest.find('\n');
  const std::string_view line = rest.substr(0, line_end);
  if (rest.substr(0, 2) == "- " || rest.substr(0, 3) == "---" ||
      line.find(':') != std::string_view::npos) {
    return LoadFormat::kYaml;
  }
  return LoadFormat::kCsv;
}

bool is_torch_save_file(std::string_view content, const std::string& file_name) {
  return ends_with(file_name, ".pt") || content.substr(0, 4) == std::string_view("PK\x03\x04", 4);
}

LoadSeries series_from_values(const double* values, std::int64_t steps, std::int64_t layers,
                              std::int64_t experts, const std::string& name) {
  LoadSeries series;
  series.reserve(static_cast<std::size_t>(steps));
  const double* value = values;
  for (std::int64_t s = 0; s < steps; ++s) {
    LoadMatrix loads(layers, experts);
    for (std::int64_t l = 0; l < layers; ++l) {
      for (std::int64_t e = 0; e < experts; ++e, ++value) {
        if (is_valid_load(*value)) {
          loads(l, e) = static_cast<float>(*value);
        } else {
          checked_load(*value, name + "[" + std::to_string(s) + "][" + std::to_string(l) + "][" +
                                   std::to_string(e) + "]");
        }
      }
    }
    series.push_back(std::move(loads));
  }
  return series;
}

LoadSeries parse_loads(std::string_view content, const std::string& file_name) {
  LoadSeries series;
  switch (detect_load_format(content, file_name)) {
    case LoadFormat::kCsv: series = parse_csv_loads(content); break;
    case LoadFormat::kJson: series = parse_json_loads(content); break;
    case LoadFormat::kYaml: series = parse_yaml_loads(content); break;
    case LoadFormat::kNpy: series = parse_npy_loads(content); break;
  }
  try {
    validate_series(series);
  } catch (const std::invalid_argument& error) {
    throw ParseError(error.what());
  }
  return series;
}

}  // namespace dualpipe::eplb
