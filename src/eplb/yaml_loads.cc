#include "dualpipe/eplb/yaml_loads.h"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <vector>

#include "dualpipe/eplb/parse_error.h"
#include "nested_rows.h"
#include "yaml_keys.h"

namespace dualpipe::eplb {
namespace {

std::string where(const YAML::Mark& mark) {
  if (mark.is_null()) return "YAML";
  return "line " + std::to_string(mark.line + 1) + ", column " + std::to_string(mark.column + 1);
}

const char* kind_name(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Sequence: return "a sequence";
    case YAML::NodeType::Map: return "a map";
    case YAML::NodeType::Null: return "nothing";
    default: return "a scalar";
  }
}

float load_at(const YAML::Node& node) {
  if (!node.IsScalar()) {
    throw ParseError(where(node.Mark()) + ": expected a number, found " + kind_name(node));
  }
  const std::string& text = node.Scalar();
  double value = 0.0;
  const auto result = std::from_chars(text.data(), text.data() + text.size(), value);
  if (result.ec == std::errc::result_out_of_range) {
    throw ParseError(where(node.Mark()) + ": '" + text +
                     "' is out of range; expected a load within float32");
  }
  if (result.ec != std::errc() || result.ptr != text.data() + text.size()) {
    const std::string shown = text.size() > 20 ? text.substr(0, 20) + "..." : text;
    throw ParseError(where(node.Mark()) + ": expected a number, found '" + shown + "'");
  }
  return checked_load(value, where(node.Mark()));
}

void require_sequence(const YAML::Node& node, const char* what) {
  if (!node.IsSequence() || node.size() == 0) {
    throw ParseError(where(node.Mark()) + ": expected " + what + ", found " +
                     (node.IsSequence() ? "an empty sequence" : kind_name(node)));
  }
}

LoadMatrix matrix_at(const YAML::Node& node, std::size_t expected_rows,
                     std::size_t expected_columns) {
  require_sequence(node, "a sequence of layer rows");
  std::vector<std::vector<float>> rows;
  for (const YAML::Node& row_node : node) {
    require_sequence(row_node, "a sequence of loads");
    std::vector<float> row;
    for (const YAML::Node& entry : row_node) row.push_back(load_at(entry));
    const std::size_t columns = expected_columns ? expected_columns
                                : rows.empty()   ? 0
                                                 : rows[0].size();
    if (columns && row.size() != columns) {
      throw ParseError(where(row_node.Mark()) + ": " + std::to_string(row.size()) +
                       " loads; expected " + std::to_string(columns));
    }
    rows.push_back(std::move(row));
  }
  if (expected_rows && rows.size() != expected_rows) {
    throw ParseError(where(node.Mark()) + ": " + std::to_string(rows.size()) +
                     " layers; expected " + std::to_string(expected_rows));
  }
  return detail::matrix_from_rows(rows);
}

LoadSeries series_at(const YAML::Node& data) {
  require_sequence(data, "a sequence of layer rows or of steps");
  const YAML::Node first = data[0];
  LoadSeries series;
  if (!(first.IsSequence() && first.size() > 0 && first[0].IsSequence())) {
    series.push_back(matrix_at(data, 0, 0));
    return series;
  }
  for (const YAML::Node& step : data) {
    const std::size_t rows = series.empty() ? 0 : static_cast<std::size_t>(series[0].rows());
    const std::size_t columns = series.empty() ? 0 : static_cast<std::size_t>(series[0].cols());
    series.push_back(matrix_at(step, rows, columns));
  }
  return series;
}

}  // namespace

LoadSeries parse_yaml_loads(std::string_view text) {
  text = without_utf8_bom(text);
  check_no_nul_bytes(text);
  try {
    const YAML::Node root = YAML::Load(std::string(text));
    detail::check_unique_map_keys(root);
    if (root.IsMap()) {
      for (const char* key : {"loads", "logical_count"}) {
        if (root[key]) return series_at(root[key]);
      }
      throw ParseError(where(root.Mark()) + ": expected a \"loads\" key");
    }
    if (root.IsNull())
      throw ParseError("line 1, column 1: no loads found; expected rows of numbers");
    return series_at(root);
  } catch (const YAML::Exception& error) {
    throw ParseError(where(error.mark) + ": invalid YAML: " + error.msg);
  }
}

std::string format_yaml_loads(const LoadSeries& series) {
  auto row_text = [](const LoadMatrix& loads, Eigen::Index l) {
    std::string text = "[";
    for (Eigen::Index e = 0; e < loads.cols(); ++e) {
      if (e) text += ", ";
      text += format_number(loads(l, e));
    }
    return text + "]\n";
  };
  std::string text = "loads:\n";
  for (const LoadMatrix& step : series) {
    for (Eigen::Index l = 0; l < step.rows(); ++l) {
      if (series.size() == 1) {
        text += "  - " + row_text(step, l);
      } else {
        text += (l == 0 ? "  - - " : "    - ") + row_text(step, l);
      }
    }
  }
  return text;
}

}  // namespace dualpipe::eplb
