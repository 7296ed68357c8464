#include "dualpipe/eplb/json_loads.h"

#include <simdjson.h>

#include <vector>

#include "dualpipe/eplb/parse_error.h"
#include "json_errors.h"
#include "nested_rows.h"

namespace dualpipe::eplb {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

const char* type_name(element_type type) {
  switch (type) {
    case element_type::ARRAY: return "an array";
    case element_type::OBJECT: return "an object";
    case element_type::STRING: return "a string";
    case element_type::BOOL: return "a boolean";
    case element_type::NULL_VALUE: return "null";
    default: return "a number";
  }
}

bool is_number(element value) {
  const element_type type = value.type();
  return type == element_type::INT64 || type == element_type::UINT64 ||
         type == element_type::DOUBLE;
}

// The load at row_path[index]; the path text is built only for an error.
float load_at(element value, const std::string& row_path, std::size_t index) {
  double number = 0.0;
  switch (value.type()) {
    case element_type::INT64: number = static_cast<double>(int64_t(value)); break;
    case element_type::UINT64: number = static_cast<double>(uint64_t(value)); break;
    case element_type::DOUBLE: number = double(value); break;
    default: number = -1.0;
  }
  if (is_number(value) && is_valid_load(number)) return static_cast<float>(number);
  const std::string path = row_path + "[" + std::to_string(index) + "]";
  if (!is_number(value)) {
    throw ParseError(path + ": expected a number, found " + type_name(value.type()));
  }
  return checked_load(number, path);
}

simdjson::dom::array array_at(element value, const std::string& path, const char* what) {
  if (value.type() != element_type::ARRAY) {
    throw ParseError(path + ": expected " + what + ", found " + type_name(value.type()));
  }
  simdjson::dom::array array = value.get_array();
  if (array.size() == 0) throw ParseError(path + ": expected " + what + ", found an empty array");
  return array;
}

// A [layers][experts] matrix at `path`; every row as long as `expected_columns` (or the first row).
LoadMatrix matrix_at(element value, const std::string& path, std::size_t expected_rows,
                     std::size_t expected_columns) {
  std::vector<std::vector<float>> rows;
  for (element row_value : array_at(value, path, "an array of layer rows")) {
    const std::string row_path = path + "[" + std::to_string(rows.size()) + "]";
    std::vector<float> row;
    for (element entry : array_at(row_value, row_path, "an array of loads")) {
      row.push_back(load_at(entry, row_path, row.size()));
    }
    const std::size_t columns = expected_columns ? expected_columns
                                : rows.empty()   ? 0
                                                 : rows[0].size();
    if (columns && row.size() != columns) {
      throw ParseError(row_path + ": " + std::to_string(row.size()) + " loads; expected " +
                       std::to_string(columns));
    }
    rows.push_back(std::move(row));
  }
  if (expected_rows && rows.size() != expected_rows) {
    throw ParseError(path + ": " + std::to_string(rows.size()) + " layers; expected " +
                     std::to_string(expected_rows));
  }
  return detail::matrix_from_rows(rows);
}

}  // namespace

LoadSeries parse_json_loads(std::string_view text) {
  text = without_utf8_bom(text);
  check_no_nul_bytes(text);
  simdjson::dom::parser parser;
  const simdjson::padded_string padded(text.data(), text.size());
  element root;
  if (const auto error = parser.parse(padded).get(root))
    detail::throw_json_syntax_error(text, error);
  detail::check_unique_keys(root);
  std::string path = "$";
  element data = root;
  if (root.type() == element_type::OBJECT) {
    bool found = false;
    for (const char* key : {"loads", "logical_count"}) {
      if (!found && !root[key].get(data)) {
        path = key;
        found = true;
      }
    }
    if (!found) throw ParseError("$: expected an array or an object with a \"loads\" array");
  }
  const auto outer = array_at(data, path, "an array of layer rows or of steps");
  element first_row = outer.at(0);
  const bool three_d = first_row.type() == element_type::ARRAY &&
                       first_row.get_array().size() > 0 &&
                       first_row.get_array().at(0).type() == element_type::ARRAY;
  LoadSeries series;
  if (!three_d) {
    series.push_back(matrix_at(data, path, 0, 0));
    return series;
  }
  for (element step : outer) {
    const std::string step_path = path + "[" + std::to_string(series.size()) + "]";
    const std::size_t rows = series.empty() ? 0 : static_cast<std::size_t>(series[0].rows());
    const std::size_t columns = series.empty() ? 0 : static_cast<std::size_t>(series[0].cols());
    series.push_back(matrix_at(step, step_path, rows, columns));
  }
  return series;
}

std::string format_json_loads(const LoadSeries& series) {
  auto matrix_text = [](const LoadMatrix& loads) {
    std::string text = "[";
    for (Eigen::Index l = 0; l < loads.rows(); ++l) {
      text += l ? ",\n  [" : "\n  [";
      for (Eigen::Index e = 0; e < loads.cols(); ++e) {
        if (e) text += ", ";
        text += format_number(loads(l, e));
      }
      text += "]";
    }
    return text + "]";
  };
  std::string text = "{\"loads\": ";
  if (series.size() == 1) {
    text += matrix_text(series[0]);
  } else {
    text += "[";
    for (std::size_t step = 0; step < series.size(); ++step) {
      if (step) text += ",\n";
      text += matrix_text(series[step]);
    }
    text += "]";
  }
  return text + "}\n";
}

}  // namespace dualpipe::eplb
