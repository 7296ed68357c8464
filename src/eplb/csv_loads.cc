#include "dualpipe/eplb/csv_loads.h"

#include <charconv>
#include <vector>

#include "dualpipe/eplb/parse_error.h"

namespace dualpipe::eplb {
namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

std::string where(std::size_t line, std::size_t column) {
  return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

// Parses one comma-separated line of numbers, appending them to `row`.
void parse_row(std::string_view line, std::size_t line_number, std::vector<float>& row) {
  std::size_t start = 0;
  while (true) {
    std::size_t end = line.find(',', start);
    if (end == std::string_view::npos) end = line.size();
    std::size_t first = start, last = end;
    while (first < last && is_blank(line[first])) ++first;
    while (last > first && is_blank(line[last - 1])) --last;
    const std::string_view field = line.substr(first, last - first);
    double value = 0.0;
    const auto result = std::from_chars(field.data(), field.data() + field.size(), value);
    if (!field.empty() && result.ec == std::errc() && result.ptr == field.data() + field.size() &&
        is_valid_load(value)) {
      row.push_back(static_cast<float>(value));
      if (end == line.size()) return;
      start = end + 1;
      continue;
    }
    const std::string position = where(line_number, first + 1);
    if (field.empty()) throw ParseError(position + ": expected a number, found an empty field");
    if (result.ec == std::errc::result_out_of_range) {
      throw ParseError(position + ": '" + std::string(field) +
                       "' is out of range; expected a load within float32");
    }
    if (result.ec != std::errc() || result.ptr != field.data() + field.size()) {
      const std::string shown =
          field.size() > 20 ? std::string(field.substr(0, 20)) + "..." : std::string(field);
      throw ParseError(position + ": expected a number, found '" + shown + "'");
    }
    checked_load(value, position);  // throws: the value is out of range
  }
}

}  // namespace

LoadSeries parse_csv_loads(std::string_view text) {
  LoadSeries series;
  std::vector<float> values;  // the current step's rows, one after another
  values.reserve(text.size() / 2 + 1);
  std::size_t columns = 0, rows = 0, first_row_line = 0, step_line = 0;
  auto finish_step = [&]() {
    if (rows == 0) return;
    if (!series.empty() && static_cast<Eigen::Index>(rows) != series[0].rows()) {
      throw ParseError(where(step_line, 1) + ": step " + std::to_string(series.size() + 1) +
                       " has " + std::to_string(rows) + " layers; expected " +
                       std::to_string(series[0].rows()) + " like step 1");
    }
    series.push_back(Eigen::Map<const LoadMatrix>(values.data(), static_cast<Eigen::Index>(rows),
                                                  static_cast<Eigen::Index>(columns)));
    values.clear();
    rows = 0;
  };
  std::size_t line_number = 0, position = 0;
  while (position <= text.size()) {
    std::size_t end = text.find('\n', position);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(position, end - position);
    ++line_number;
    std::size_t first = 0;
    while (first < line.size() && is_blank(line[first])) ++first;
    if (first == line.size()) {
      finish_step();
    } else if (line[first] != '#') {
      const std::size_t row_start = values.size();
      parse_row(line, line_number, values);
      const std::size_t count = values.size() - row_start;
      if (first_row_line == 0) {
        first_row_line = line_number;
        columns = count;
      }
      if (rows == 0) step_line = line_number;
      if (count != columns) {
        throw ParseError(where(line_number, 1) + ": " + std::to_string(count) +
                         " values; expected " + std::to_string(columns) + " like line " +
                         std::to_string(first_row_line));
      }
      ++rows;
    }
    if (end == text.size()) break;
    position = end + 1;
  }
  finish_step();
  if (series.empty())
    throw ParseError("line 1, column 1: no loads found; expected rows of numbers");
  return series;
}

std::string format_csv_loads(const LoadSeries& series) {
  std::string text;
  for (std::size_t step = 0; step < series.size(); ++step) {
    if (step > 0) text += '\n';
    for (Eigen::Index l = 0; l < series[step].rows(); ++l) {
      for (Eigen::Index e = 0; e < series[step].cols(); ++e) {
        if (e > 0) text += ',';
        text += format_number(series[step](l, e));
      }
      text += '\n';
    }
  }
  return text;
}

}  // namespace dualpipe::eplb
