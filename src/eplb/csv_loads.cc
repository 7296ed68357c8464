#include "dualpipe/eplb/csv_loads.h"

#include <algorithm>
#include <charconv>
#include <vector>

#include "dualpipe/eplb/parse_error.h"

namespace dualpipe::eplb {
namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

std::string where(std::size_t line, std::size_t column) {
  return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

// Parses one comma-separated line of numbers, storing the first `capacity` of them at `row`.
// Returns how many numbers the line holds.
std::size_t parse_row(std::string_view line, std::size_t line_number, float* row,
                      std::size_t capacity) {
  std::size_t count = 0, start = 0;
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
      if (count < capacity) row[count] = static_cast<float>(value);
      ++count;
      if (end == line.size()) return count;
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

// What a line holds: nothing (blank: a step ends), a comment, or a row of numbers.
enum class LineKind { kBlank, kComment, kRow };

LineKind line_kind(std::string_view line) {
  std::size_t first = 0;
  while (first < line.size() && is_blank(line[first])) ++first;
  if (first == line.size()) return LineKind::kBlank;
  return line[first] == '#' ? LineKind::kComment : LineKind::kRow;
}

// Calls visit(line, line_number) for every line of `text`, numbered from 1.
template <typename Visit>
void for_each_line(std::string_view text, Visit visit) {
  std::size_t line_number = 0, position = 0;
  while (true) {
    std::size_t end = text.find('\n', position);
    if (end == std::string_view::npos) end = text.size();
    visit(text.substr(position, end - position), ++line_number);
    if (end == text.size()) return;
    position = end + 1;
  }
}

// The number of rows of each step, and the number of fields of the first row (its commas + 1).
struct CsvShape {
  std::vector<std::size_t> step_rows;
  std::size_t columns = 0;
};

CsvShape csv_shape(std::string_view text) {
  CsvShape shape;
  std::size_t rows = 0;
  for_each_line(text, [&](std::string_view line, std::size_t) {
    const LineKind kind = line_kind(line);
    if (kind == LineKind::kRow) {
      if (shape.step_rows.empty() && rows == 0)
        shape.columns = static_cast<std::size_t>(std::count(line.begin(), line.end(), ',')) + 1;
      ++rows;
    } else if (kind == LineKind::kBlank && rows > 0) {
      shape.step_rows.push_back(rows);
      rows = 0;
    }
  });
  if (rows > 0) shape.step_rows.push_back(rows);
  return shape;
}

}  // namespace

LoadSeries parse_csv_loads(std::string_view text) {
  text = without_utf8_bom(text);
  check_no_nul_bytes(text);
  // A first pass sizes each step's matrix, so that the numbers are parsed straight into it.
  const CsvShape shape = csv_shape(text);
  LoadSeries series;
  series.reserve(shape.step_rows.size());
  std::size_t rows = 0, first_row_line = 0, step_line = 0;
  auto finish_step = [&]() {
    if (rows == 0) return;
    if (series.size() > 1 && static_cast<Eigen::Index>(rows) != series[0].rows()) {
      throw ParseError(where(step_line, 1) + ": step " + std::to_string(series.size()) + " has " +
                       std::to_string(rows) + " layers; expected " +
                       std::to_string(series[0].rows()) + " like step 1");
    }
    rows = 0;
  };
  for_each_line(text, [&](std::string_view line, std::size_t line_number) {
    const LineKind kind = line_kind(line);
    if (kind == LineKind::kBlank) finish_step();
    if (kind != LineKind::kRow) return;
    if (rows == 0) {
      step_line = line_number;
      series.emplace_back(static_cast<Eigen::Index>(shape.step_rows[series.size()]),
                          static_cast<Eigen::Index>(shape.columns));
    }
    const std::size_t count =
        parse_row(line, line_number, series.back().row(rows).data(), shape.columns);
    if (first_row_line == 0) first_row_line = line_number;
    if (count != shape.columns) {
      throw ParseError(where(line_number, 1) + ": " + std::to_string(count) + " values; expected " +
                       std::to_string(shape.columns) + " like line " +
                       std::to_string(first_row_line));
    }
    ++rows;
  });
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
