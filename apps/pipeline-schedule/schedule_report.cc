#include "schedule_report.h"

#include <algorithm>
#include <numeric>
#include <optional>
#include <sstream>

#include "dualpipe/schedule/bubble_formula.h"
#include "dualpipe/trace/json_text.h"

namespace dualpipe::apps {
namespace {

using schedule::ScheduleSummary;

std::string number(double value) {
  std::ostringstream out;
  out.precision(6);
  out << value;
  return out.str();
}

template <typename T>
std::string json_array(const std::vector<T>& values) {
  std::string out = "[";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i) out += ",";
    out += trace::json_number(static_cast<double>(values[i]), 6);
  }
  return out + "]";
}

double mean(const std::vector<double>& values) {
  if (values.empty()) return 0.0;
  return std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
}

template <typename T>
T largest(const std::vector<T>& values) {
  return values.empty() ? T{} : *std::max_element(values.begin(), values.end());
}

std::optional<double> published(const SimulatedSchedule& run, const schedule::CostModel& costs) {
  const schedule::Schedule& s = run.simulation.timed.schedule;
  return schedule::published_bubble(s.name, s.num_stages, costs.default_stage, run.virtual_stages);
}

// The JSON object of one run, without its closing brace.
std::string summary_fields(const SimulatedSchedule& run) {
  const schedule::Schedule& s = run.simulation.timed.schedule;
  const ScheduleSummary& summary = run.simulation.summary;
  return "{\"schedule\":" + trace::json_quote(s.name) +
         ",\"ranks\":" + std::to_string(s.num_ranks) +
         ",\"stages\":" + std::to_string(s.num_stages) +
         ",\"microbatches\":" + std::to_string(s.num_microbatches) +
         ",\"time_unit\":" + trace::json_quote(run.simulation.timed.time_unit) +
         ",\"step_time\":" + trace::json_number(summary.step_time, 6) +
         ",\"bubble_per_rank\":" + json_array(summary.bubble_per_rank) +
         ",\"busy_per_rank\":" + json_array(summary.busy_per_rank) +
         ",\"peak_activations_per_rank\":" + json_array(summary.peak_activations_per_rank) +
         ",\"parameter_copies_per_rank\":" + json_array(summary.parameter_copies_per_rank);
}

// Rows of cells as a Markdown table with padded columns.
std::string markdown_table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> widths(rows.front().size(), 3);
  for (const auto& row : rows) {
    for (std::size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], row[c].size());
  }
  std::string out;
  auto add_row = [&](const std::vector<std::string>& row) {
    for (std::size_t c = 0; c < row.size(); ++c) {
      out += "| " + row[c] + std::string(widths[c] - row[c].size(), ' ') + " ";
    }
    out += "|\n";
  };
  add_row(rows.front());
  for (std::size_t c = 0; c < widths.size(); ++c) out += "|" + std::string(widths[c] + 2, '-');
  out += "|\n";
  for (std::size_t r = 1; r < rows.size(); ++r) add_row(rows[r]);
  return out;
}

}  // namespace

std::string summary_text(const SimulatedSchedule& run) {
  const schedule::Schedule& s = run.simulation.timed.schedule;
  const ScheduleSummary& summary = run.simulation.summary;
  const std::string& unit = run.simulation.timed.time_unit;
  std::ostringstream out;
  out << "schedule " << s.name << ": " << s.num_ranks << " ranks, " << s.num_stages << " stages, "
      << s.num_microbatches << " micro-batches\n"
      << "step time " << number(summary.step_time) << " " << unit << "\n"
      << "rank  busy        bubble      peak activations  parameter copies\n";
  for (std::size_t r = 0; r < summary.busy_per_rank.size(); ++r) {
    std::string busy = number(summary.busy_per_rank[r]);
    std::string bubble = number(summary.bubble_per_rank[r]);
    busy.resize(std::max<std::size_t>(busy.size(), 11), ' ');
    bubble.resize(std::max<std::size_t>(bubble.size(), 11), ' ');
    std::string rank = std::to_string(r);
    rank.resize(std::max<std::size_t>(rank.size(), 5), ' ');
    std::string peak = std::to_string(summary.peak_activations_per_rank[r]);
    peak.resize(std::max<std::size_t>(peak.size(), 17), ' ');
    out << rank << " " << busy << " " << bubble << " " << peak << " "
        << summary.parameter_copies_per_rank[r] << "\n";
  }
  return out.str();
}

std::string summary_json(const SimulatedSchedule& run) { return summary_fields(run) + "}\n"; }

std::string comparison_table(const std::vector<SimulatedSchedule>& runs,
                             const schedule::CostModel& costs) {
  const std::string unit = runs.empty() ? costs.time_unit : runs.front().simulation.timed.time_unit;
  std::vector<std::vector<std::string>> rows = {
      {"schedule", "ranks", "stages", "micro-batches", "step time (" + unit + ")", "bubble max",
       "bubble mean", "published bubble", "formula", "peak activations", "parameter copies"}};
  for (const SimulatedSchedule& run : runs) {
    const schedule::Schedule& s = run.simulation.timed.schedule;
    const ScheduleSummary& summary = run.simulation.summary;
    const std::optional<double> formula_value = published(run, costs);
    const std::string formula = schedule::published_bubble_formula(s.name);
    rows.push_back({s.name, std::to_string(s.num_ranks), std::to_string(s.num_stages),
                    std::to_string(s.num_microbatches), number(summary.step_time),
                    number(largest(summary.bubble_per_rank)), number(mean(summary.bubble_per_rank)),
                    formula_value ? number(*formula_value) : "-", formula.empty() ? "-" : formula,
                    std::to_string(largest(summary.peak_activations_per_rank)),
                    std::to_string(largest(summary.parameter_copies_per_rank))});
  }
  return markdown_table(rows);
}

std::string comparison_json(const std::vector<SimulatedSchedule>& runs,
                            const schedule::CostModel& costs) {
  std::string out = "[";
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const std::optional<double> formula_value = published(runs[i], costs);
    out += std::string(i ? ",\n" : "\n") + summary_fields(runs[i]) + ",\"published_bubble\":" +
           (formula_value ? trace::json_number(*formula_value, 6) : "null") + "}";
  }
  return out + "\n]\n";
}

}  // namespace dualpipe::apps
