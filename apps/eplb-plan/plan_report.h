// The --report of eplb-plan: a per-layer table and a summary, as text or JSON.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "dualpipe/eplb/replay.h"
#include "dualpipe/eplb/statistics.h"

namespace dualpipe::apps {

// What a plan report shows: statistics of the new plan and of the placement before it under the
// same loads (the previous plan, or SGLang's trivial placement).
struct PlanReportInput {
  std::string policy;
  dualpipe::eplb::PlanParameters parameters;
  std::vector<dualpipe::eplb::LayerStatistics> after;
  std::vector<dualpipe::eplb::LayerStatistics> before;
  std::string before_name;  // "previous plan" or "trivial placement"
  std::optional<int> replicas_moved;
};

// A text table (one row per layer) and a summary of balancedness before/after, gap, replicas moved.
std::string plan_report_text(const PlanReportInput& input);
// The same as one JSON object {"layers": [...], "summary": {...}}.
std::string plan_report_json(const PlanReportInput& input);

// Replay results: a table of windows (text) or {"windows": [...], "summary": {...}} (JSON).
std::string replay_report_text(const std::vector<dualpipe::eplb::ReplayWindow>& windows);
std::string replay_report_json(const std::vector<dualpipe::eplb::ReplayWindow>& windows);

}  // namespace dualpipe::apps
