#include "plan_report.h"

#include <algorithm>
#include <cstdio>

#include "dualpipe/eplb/parse_error.h"

namespace dualpipe::apps {
namespace {

using dualpipe::eplb::format_number;
using dualpipe::eplb::LayerStatistics;

std::string fixed(double value, int decimals) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
  return buffer;
}

std::string padded(const std::string& text, std::size_t width) {
  return text.size() >= width ? text + " " : text + std::string(width - text.size(), ' ');
}

// Means over layers of balancedness and gap, and the worst gap.
struct Summary {
  double balancedness = 0.0;
  double gap = 0.0;
  double worst_gap = 0.0;
};

Summary summarize(const std::vector<LayerStatistics>& layers) {
  Summary s;
  for (const auto& layer : layers) {
    s.balancedness += layer.balancedness();
    s.gap += layer.gap();
    s.worst_gap = std::max(s.worst_gap, layer.gap());
  }
  if (!layers.empty()) {
    s.balancedness /= static_cast<double>(layers.size());
    s.gap /= static_cast<double>(layers.size());
  }
  return s;
}

double mean_replay(const std::vector<dualpipe::eplb::ReplayWindow>& windows, bool before) {
  double sum = 0.0;
  for (const auto& w : windows) sum += before ? w.balancedness_before : w.balancedness;
  return windows.empty() ? 0.0 : sum / static_cast<double>(windows.size());
}

}  // namespace

std::string plan_report_text(const PlanReportInput& in) {
  std::string text = padded("layer", 7) + padded("max_gpu_load", 15) + padded("mean_gpu_load", 15) +
                     padded("lower_bound", 15) + padded("gap", 9) + padded("balancedness", 14) +
                     "balancedness_before\n";
  for (std::size_t l = 0; l < in.after.size(); ++l) {
    const LayerStatistics& s = in.after[l];
    text += padded(std::to_string(l), 7) + padded(fixed(s.max_gpu_load, 3), 15) +
            padded(fixed(s.mean_gpu_load, 3), 15) + padded(fixed(s.lower_bound.value(), 3), 15) +
            padded(fixed(s.gap(), 4), 9) + padded(fixed(s.balancedness(), 4), 14) +
            fixed(in.before[l].balancedness(), 4) + "\n";
  }
  const Summary after = summarize(in.after);
  const Summary before = summarize(in.before);
  const auto& p = in.parameters;
  text += "policy " + in.policy + ": " + std::to_string(in.after.size()) + " layers, " +
          std::to_string(p.replicas) + " replicas on " + std::to_string(p.gpus) + " GPUs, " +
          std::to_string(p.nodes) + " nodes, " + std::to_string(p.groups) + " groups\n";
  text += "balancedness (mean/max GPU load, mean over layers): " + fixed(before.balancedness, 4) +
          " (" + in.before_name + ") -> " + fixed(after.balancedness, 4) + "\n";
  text += "gap to the lower bound (max GPU load / bound): mean " + fixed(after.gap, 4) +
          ", worst " + fixed(after.worst_gap, 4) + "\n";
  if (in.replicas_moved) text += "replicas moved: " + std::to_string(*in.replicas_moved) + "\n";
  return text;
}

std::string plan_report_json(const PlanReportInput& in) {
  std::string text = "{\"layers\": [";
  for (std::size_t l = 0; l < in.after.size(); ++l) {
    const LayerStatistics& s = in.after[l];
    text += std::string(l ? ",\n  " : "\n  ") + "{\"layer\": " + std::to_string(l) +
            ", \"max_gpu_load\": " + format_number(s.max_gpu_load) +
            ", \"mean_gpu_load\": " + format_number(s.mean_gpu_load) +
            ", \"lower_bound\": " + format_number(s.lower_bound.value()) +
            ", \"gap\": " + format_number(s.gap()) +
            ", \"balancedness\": " + format_number(s.balancedness()) +
            ", \"balancedness_before\": " + format_number(in.before[l].balancedness()) + "}";
  }
  const Summary after = summarize(in.after);
  const Summary before = summarize(in.before);
  text += "],\n \"summary\": {\"policy\": \"" + in.policy + "\", \"before\": \"" + in.before_name +
          "\", \"balancedness_before\": " + format_number(before.balancedness) +
          ", \"balancedness_after\": " + format_number(after.balancedness) +
          ", \"mean_gap\": " + format_number(after.gap) +
          ", \"worst_gap\": " + format_number(after.worst_gap);
  if (in.replicas_moved) text += ", \"replicas_moved\": " + std::to_string(*in.replicas_moved);
  return text + "}}\n";
}

std::string replay_report_text(const std::vector<dualpipe::eplb::ReplayWindow>& windows) {
  std::string text = padded("first_step", 12) + padded("steps", 7) + padded("balancedness", 14) +
                     padded("balancedness_before", 21) + "replicas_moved\n";
  int moved = 0;
  for (const auto& w : windows) {
    text += padded(std::to_string(w.first_step), 12) + padded(std::to_string(w.steps), 7) +
            padded(fixed(w.balancedness, 4), 14) + padded(fixed(w.balancedness_before, 4), 21) +
            std::to_string(w.replicas_moved) + "\n";
    moved += w.replicas_moved;
  }
  text += std::to_string(windows.size()) + " windows: balancedness " +
          fixed(mean_replay(windows, false), 4) + " with re-planning, " +
          fixed(mean_replay(windows, true), 4) +
          " with the plan before each window; replicas moved: " + std::to_string(moved) + "\n";
  return text;
}

std::string replay_report_json(const std::vector<dualpipe::eplb::ReplayWindow>& windows) {
  std::string text = "{\"windows\": [";
  int moved = 0;
  for (std::size_t i = 0; i < windows.size(); ++i) {
    const auto& w = windows[i];
    text += std::string(i ? ",\n  " : "\n  ") + "{\"first_step\": " + std::to_string(w.first_step) +
            ", \"steps\": " + std::to_string(w.steps) +
            ", \"balancedness\": " + format_number(w.balancedness) +
            ", \"balancedness_before\": " + format_number(w.balancedness_before) +
            ", \"replicas_moved\": " + std::to_string(w.replicas_moved) + "}";
    moved += w.replicas_moved;
  }
  return text + "],\n \"summary\": {\"windows\": " + std::to_string(windows.size()) +
         ", \"balancedness\": " + format_number(mean_replay(windows, false)) +
         ", \"balancedness_before\": " + format_number(mean_replay(windows, true)) +
         ", \"replicas_moved\": " + std::to_string(moved) + "}}\n";
}

}  // namespace dualpipe::apps
