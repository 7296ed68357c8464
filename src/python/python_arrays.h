// Conversions between Python objects (torch tensors, NumPy arrays, nested lists) and the
// planner's loads and plans, shaped and typed as deepseek-ai/EPLB's rebalance_experts takes and
// returns them.
#pragma once

#include <pybind11/pybind11.h>

#include <vector>

#include "dualpipe/eplb/load_matrix.h"
#include "dualpipe/eplb/slot_table.h"

namespace dualpipe::python {

namespace py = pybind11;

// The loads [layers, experts] in `weight` (named `what` in messages): a torch tensor of any dtype
// on any device (taken as weight.float().cpu(), as the reference does), a NumPy array or nested
// lists of numbers. Throws std::invalid_argument unless it is a two-dimensional array of numbers.
eplb::LoadMatrix loads_from_python(py::handle weight, const char* what = "weight");

// phy2log rows [layers][replicas] from a tensor, an array or nested lists of integer expert ids.
// Throws std::invalid_argument unless it is a two-dimensional integer array whose ids lie in
// [0, num_experts) (the message names layer, slot and id as slot_table_from_phy2log does).
std::vector<std::vector<int>> phy2log_from_python(py::handle phy2log, int num_experts,
                                                  const char* what);

// Replaces the copy numbers of `table` by the columns of log2phy [layers, experts, max copies]
// (padded with -1), as the reference numbers them. Throws std::invalid_argument unless log2phy
// lists every slot of `table` exactly once, under the slot's expert.
void copies_from_log2phy(py::handle log2phy, eplb::SlotTable& table);

// Whether torch can be imported (tried once): outputs are torch tensors then, NumPy arrays else.
bool torch_available();

// (phy2log [layers, replicas], log2phy [layers, experts, max copies] padded with -1,
// logcnt [layers, experts]), int64 on the CPU, as the reference returns them.
py::tuple plan_to_python(const eplb::SlotTable& table);

// phy2log rows [layers][replicas] as int64 [layers, replicas]. Throws std::invalid_argument when
// the rows differ in length.
py::object rows_to_python(const std::vector<std::vector<int>>& rows);

// float32 loads [layers, experts], and a series as [steps, layers, experts].
py::object loads_to_python(const eplb::LoadMatrix& loads);
py::object series_to_python(const eplb::LoadSeries& series);

}  // namespace dualpipe::python
