// dualpipe_eplb: the expert-replication planner in a Python process, a drop-in for
// deepseek-ai/EPLB's rebalance_experts with the balanced policy, re-planning from a previous plan
// and eplb-plan's load and plan files.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>

#include "dualpipe/eplb/aggregation.h"
#include "dualpipe/eplb/migration.h"
#include "dualpipe/eplb/plan_formats.h"
#include "dualpipe/eplb/plan_problem.h"
#include "dualpipe/eplb/policy.h"
#include "dualpipe/eplb/statistics.h"
#include "plan_files.h"
#include "python_arrays.h"

namespace dualpipe::python {
namespace {

using namespace pybind11::literals;

// Re-planning limits from the keyword arguments, checked as eplb-plan checks its flags.
eplb::MigrationOptions migration_options(const std::optional<int>& max_moves, double min_gain) {
  eplb::MigrationOptions options;
  if (max_moves) options.max_moves = *max_moves;
  options.min_gain = min_gain;
  eplb::check_migration_options(options);
  return options;
}

py::tuple rebalance_experts(py::object weight, int num_replicas, int num_groups, int num_nodes,
                            int num_gpus, const std::string& policy_name, py::object previous,
                            const std::optional<int>& max_moves, double min_gain) {
  const eplb::Policy policy = eplb::parse_policy(policy_name);
  const eplb::PlanProblem problem = eplb::make_plan_problem(
      loads_from_python(weight), {num_replicas, num_groups, num_nodes, num_gpus});
  if (previous.is_none()) {
    if (max_moves || min_gain != 0.0) {
      throw std::invalid_argument("--max-moves and --min-gain need --previous PLAN");
    }
    py::gil_scoped_release release;
    eplb::SlotTable table = eplb::plan(problem, policy);
    py::gil_scoped_acquire acquire;
    return plan_to_python(table);
  }
  const eplb::MigrationOptions options = migration_options(max_moves, min_gain);
  const eplb::SlotTable before = eplb::slot_table_from_phy2log(
      phy2log_from_python(previous, problem.num_experts(), "previous"), problem.num_experts());
  py::gil_scoped_release release;
  eplb::SlotTable table = eplb::replan(problem, policy, before, options).placement;
  py::gil_scoped_acquire acquire;
  return plan_to_python(table);
}

py::object read_loads(const std::string& path, const std::string& aggregate) {
  const eplb::Aggregation aggregation = eplb::parse_aggregation(aggregate);
  return loads_to_python(eplb::aggregate(read_load_series(path), aggregation));
}

// The plan file `document` of phy2log and the keyword arguments.
eplb::PlanDocument plan_document(py::handle phy2log, py::handle log2phy, eplb::PlanFormat format,
                                 int first_layer, py::handle weight,
                                 const std::optional<int>& num_groups,
                                 const std::optional<int>& num_nodes,
                                 const std::optional<int>& num_gpus,
                                 const std::optional<std::string>& policy) {
  std::optional<eplb::LoadMatrix> loads;
  if (!weight.is_none()) loads = loads_from_python(weight);
  const int id_limit = loads ? static_cast<int>(loads->cols()) : std::numeric_limits<int>::max();
  const std::vector<std::vector<int>> rows = phy2log_from_python(phy2log, id_limit, "phy2log");
  int num_experts = 0;
  for (const auto& row : rows) {
    for (int id : row) num_experts = std::max(num_experts, id + 1);
  }
  if (loads) num_experts = static_cast<int>(loads->cols());
  eplb::PlanDocument document;
  document.slots = eplb::slot_table_from_phy2log(rows, num_experts);
  if (!log2phy.is_none()) copies_from_log2phy(log2phy, document.slots);
  document.first_layer = first_layer;
  const bool full = format == eplb::PlanFormat::kJson || format == eplb::PlanFormat::kYaml;
  if (full && (!num_groups || !num_nodes || !num_gpus || !policy)) {
    throw std::invalid_argument(
        "the json and yaml formats need policy, num_groups, num_nodes and num_gpus");
  }
  document.parameters = {document.slots.num_replicas, num_groups.value_or(1), num_nodes.value_or(1),
                         num_gpus.value_or(1)};
  document.policy = policy.value_or("");
  if (full && loads) {
    const eplb::PlanProblem problem = eplb::make_plan_problem(*loads, document.parameters);
    document.statistics = eplb::placement_statistics(document.slots, problem);
  }
  return document;
}

void write_plan(const std::string& path, py::object phy2log, const std::string& format,
                py::object log2phy, int first_layer, py::object weight,
                const std::optional<int>& num_groups, const std::optional<int>& num_nodes,
                const std::optional<int>& num_gpus, const std::optional<std::string>& policy) {
  const eplb::PlanFormat plan_format = eplb::parse_plan_format(format);
  const eplb::PlanDocument document = plan_document(
      phy2log, log2phy, plan_format, first_layer, weight, num_groups, num_nodes, num_gpus, policy);
  write_text_file(path, eplb::format_plan(document, plan_format));
}

}  // namespace

PYBIND11_MODULE(dualpipe_eplb, m) {
  m.doc() =
      "Expert-replication planning for Mixture-of-Experts models: deepseek-ai/EPLB's "
      "rebalance_experts, exact and fast, with a balanced policy, re-planning and load files.";
  m.def("rebalance_experts", &rebalance_experts, "weight"_a, "num_replicas"_a, "num_groups"_a,
        "num_nodes"_a, "num_gpus"_a, py::kw_only(), "policy"_a = "deepseek",
        "previous"_a = py::none(), "max_moves"_a = py::none(), "min_gain"_a = 0.0,
        R"(Plans expert replicas; a drop-in for deepseek-ai/EPLB's eplb.rebalance_experts.

weight: loads [layers, experts] as a torch tensor (any dtype or device), a NumPy array or nested
lists. Returns (phy2log [layers, num_replicas], log2phy [layers, experts, max copies] padded with
-1, logcnt [layers, experts]), int64 torch tensors on the CPU when torch can be imported, else
NumPy arrays. policy="deepseek" gives exactly the reference's outputs; policy="balanced" never
puts two copies of an expert on one GPU and is never worse than "deepseek" on a layer whose
deepseek plan has no such duplicate. previous (phy2log of the plan in place) re-plans from it,
moving at most max_moves replicas and changing a layer only when its largest GPU load drops by
at least the fraction min_gain. Bad input raises ValueError with the message eplb-plan prints.)");
  m.def(
      "read_loads", &read_loads, "path"_a, "aggregate"_a = "sum",
      R"(Loads [layers, experts] (float32) from a file eplb-plan reads: CSV, JSON, YAML, .npy or an
SGLang expert-distribution dump (.pt); a time series is combined by aggregate: "sum", "mean",
"window:K" or "ema:ALPHA".)");
  m.def(
      "read_load_series",
      [](const std::string& path) { return series_to_python(read_load_series(path)); }, "path"_a,
      "The loads of every step of a load file, [steps, layers, experts] (float32).");
  m.def(
      "read_plan", [](const std::string& path) { return rows_to_python(read_plan_rows(path)); },
      "path"_a,
      "phy2log [layers, replicas] (int64) of a plan file in any format eplb-plan writes.");
  m.def("write_plan", &write_plan, "path"_a, "phy2log"_a, "format"_a = "sglang", py::kw_only(),
        "log2phy"_a = py::none(), "first_layer"_a = 0, "weight"_a = py::none(),
        "num_groups"_a = py::none(), "num_nodes"_a = py::none(), "num_gpus"_a = py::none(),
        "policy"_a = py::none(),
        R"(Writes a plan file as eplb-plan does: format "sglang" (--init-expert-location), "trtllm"
(load-balancer YAML, layers numbered from first_layer), "csv", or "json"/"yaml" (which need
policy, num_groups, num_nodes and num_gpus, and carry per-layer statistics when weight is given).
log2phy (as rebalance_experts returns it) keeps its order of each expert's slots in json and yaml;
without it they are listed in slot order. The file is replaced only once the whole text is
written.)");
}

}  // namespace dualpipe::python
