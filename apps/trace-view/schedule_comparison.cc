#include "schedule_comparison.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <sstream>

#include "dualpipe/render/schedule_svg.h"
#include "dualpipe/schedule/simulator.h"

namespace dualpipe::apps {
namespace {

using schedule::Op;

std::string fixed(double value, int decimals = 3) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
  return buffer;
}

// Mean measured duration of every compute op (ms).
std::map<Op, double> mean_durations(const schedule::TimedSchedule& measured) {
  std::map<Op, std::pair<double, int>> sums;
  const auto& programs = measured.schedule.programs;
  for (std::size_t r = 0; r < programs.size(); ++r) {
    for (std::size_t i = 0; i < programs[r].size(); ++i) {
      if (!schedule::is_compute(programs[r][i].op)) continue;
      auto& [sum, count] = sums[programs[r][i].op];
      sum += measured.timing[r][i].duration;
      ++count;
    }
  }
  std::map<Op, double> means;
  for (const auto& [op, sum_count] : sums) means[op] = sum_count.first / sum_count.second;
  return means;
}

// Uniform costs from the measured means, filling ops the run did not have from those it had.
schedule::CostModel measured_costs(const std::map<Op, double>& means) {
  const auto mean = [&](Op op) { return means.count(op) ? means.at(op) : 0.0; };
  const double forward = mean(Op::kF) > 0 ? mean(Op::kF) : 1.0;
  double weight = mean(Op::kW);
  double backward = mean(Op::kB) > 0 ? mean(Op::kB) : mean(Op::kI) + weight;
  if (backward <= 0) backward = 2.0 * forward;
  weight = std::min(weight > 0 ? weight : backward / 2.0, backward);
  const double overlapped = mean(Op::kFB) > 0 ? mean(Op::kFB) : forward + backward;
  schedule::CostModel costs = schedule::uniform_cost_model(forward, backward, weight, overlapped);
  costs.time_unit = "ms";
  return costs;
}

// The compute actions of one program, in order (communication is placed differently by each).
std::vector<schedule::Action> compute_order(const std::vector<schedule::Action>& program) {
  std::vector<schedule::Action> order;
  std::copy_if(program.begin(), program.end(), std::back_inserter(order),
               [](const schedule::Action& a) { return schedule::is_compute(a.op); });
  return order;
}

std::string drawing(const schedule::TimedSchedule& measured,
                    const schedule::TimedSchedule& simulated, double measured_step,
                    double simulated_step) {
  const double longest = std::max({measured_step, simulated_step, 1e-9});
  render::ScheduleDrawingOptions top;
  top.title = "measured (from the trace), step " + fixed(measured_step) + " ms";
  top.timeline_width_px = 1400.0 * measured_step / longest;
  render::ScheduleDrawingOptions bottom;
  bottom.title = "simulated with the measured durations, step " + fixed(simulated_step) + " ms";
  bottom.timeline_width_px = 1400.0 * simulated_step / longest;
  const std::string upper = render::schedule_svg(measured, top);
  const std::string lower = render::schedule_svg(simulated, bottom);
  // Stack the two drawings: nested <svg> elements, the lower one moved down.
  const auto height_of = [](const std::string& svg) {
    const std::size_t at = svg.find("height=\"");
    return at == std::string::npos ? 300.0 : std::stod(svg.substr(at + 8));
  };
  const double upper_height = height_of(upper);
  const double total_height = upper_height + height_of(lower) + 10;
  std::ostringstream out;
  out << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"1600\" height=\"" << total_height
      << "\">\n"
      << upper << "<g transform=\"translate(0," << upper_height + 10 << ")\">\n"
      << lower << "</g>\n</svg>\n";
  return out.str();
}

}  // namespace

ScheduleComparison compare_schedules(const schedule::TimedSchedule& measured,
                                     const schedule::Schedule& planned,
                                     const std::string& planned_name) {
  const std::map<Op, double> means = mean_durations(measured);
  const schedule::CostModel costs = measured_costs(means);
  const schedule::Simulation simulation = schedule::simulate(planned, costs);
  const schedule::ScheduleSummary measured_summary = schedule::summarize(measured);
  const schedule::ScheduleSummary& simulated_summary = simulation.summary;

  std::ostringstream report;
  report
      << "schedule comparison: measured run vs " << planned_name << " (" << planned.name
      << ") simulated with the measured mean durations F " << fixed(costs.default_stage.forward)
      << " ms, B " << fixed(costs.default_stage.backward) << " ms, W "
      << fixed(costs.default_stage.weight) << " ms, FB " << fixed(costs.default_stage.overlapped)
      << " ms\n"
      << "  step time: measured " << fixed(measured_summary.step_time) << " ms, simulated "
      << fixed(simulated_summary.step_time) << " ms\n"
      << "  rank  measured busy / bubble (ms)  simulated busy / bubble (ms)  same compute order\n";
  const std::size_t ranks = std::max(measured.schedule.programs.size(), planned.programs.size());
  for (std::size_t r = 0; r < ranks; ++r) {
    const auto value = [r](const std::vector<double>& v) { return r < v.size() ? v[r] : 0.0; };
    const bool same =
        r < measured.schedule.programs.size() && r < planned.programs.size() &&
        compute_order(measured.schedule.programs[r]) == compute_order(planned.programs[r]);
    report << "  " << r << "     " << fixed(value(measured_summary.busy_per_rank)) << " / "
           << fixed(value(measured_summary.bubble_per_rank)) << "            "
           << fixed(value(simulated_summary.busy_per_rank)) << " / "
           << fixed(value(simulated_summary.bubble_per_rank)) << "             "
           << (same ? "yes" : "no") << "\n";
  }
  return {report.str(), drawing(measured, simulation.timed, measured_summary.step_time,
                                simulated_summary.step_time)};
}

}  // namespace dualpipe::apps
