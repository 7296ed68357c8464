#include "python_arrays.h"

#include <pybind11/numpy.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

namespace dualpipe::python {
namespace {

// `value` as a C-contiguous NumPy array of `dtype` (None: NumPy's choice).
py::array numpy_array(py::handle value, py::object dtype) {
  return py::module_::import("numpy").attr("ascontiguousarray")(value, dtype);
}

bool is_torch_tensor(py::handle value) {
  return py::hasattr(value, "detach") && py::hasattr(value, "cpu") && py::hasattr(value, "numpy");
}

std::string shape_text(const py::array& array) {
  std::string text = "(";
  for (py::ssize_t d = 0; d < array.ndim(); ++d) {
    text += (d ? ", " : "") + std::to_string(array.shape(d));
  }
  return text + (array.ndim() == 1 ? ",)" : ")");
}

// `value` as a two-dimensional NumPy array: of float32 (a tensor converted as weight.float().cpu())
// when `numbers`, else of the type NumPy picks.
py::array two_dimensional(py::handle value, const char* what, bool numbers) {
  const std::string expected = numbers ? "numbers" : "integer expert ids";
  py::object source = py::reinterpret_borrow<py::object>(value);
  if (is_torch_tensor(value)) {
    source = source.attr("detach")();
    if (numbers) source = source.attr("float")();
    source = source.attr("cpu")().attr("numpy")();
  }
  const py::object dtype = numbers ? py::object(py::str("float32")) : py::object(py::none());
  py::array array;
  try {
    array = numpy_array(source, dtype);
  } catch (const py::error_already_set&) {
    throw std::invalid_argument(std::string(what) + " is not a rectangular array of " + expected);
  }
  if (array.ndim() != 2) {
    throw std::invalid_argument(std::string(what) + " has shape " + shape_text(array) +
                                "; expected [layers, " + (numbers ? "experts]" : "replicas]"));
  }
  return array;
}

// Wraps a NumPy array as a torch tensor (sharing its memory) when torch is available.
py::object as_output(py::array array) {
  if (!torch_available()) return std::move(array);
  return py::module_::import("torch").attr("from_numpy")(array);
}

}  // namespace

eplb::LoadMatrix loads_from_python(py::handle weight, const char* what) {
  const auto array = py::array_t<float, py::array::c_style>(two_dimensional(weight, what, true));
  eplb::LoadMatrix loads(array.shape(0), array.shape(1));
  std::copy(array.data(), array.data() + array.size(), loads.data());
  return loads;
}

std::vector<std::vector<int>> phy2log_from_python(py::handle phy2log, int num_experts,
                                                  const char* what) {
  py::array raw = two_dimensional(phy2log, what, false);
  const char kind = raw.dtype().kind();
  if (kind != 'i' && kind != 'u') {
    throw std::invalid_argument(std::string(what) + " holds " + std::string(py::str(raw.dtype())) +
                                " values; expected integer expert ids");
  }
  const auto ids = py::array_t<int64_t, py::array::c_style>(numpy_array(raw, py::str("int64")));
  std::vector<std::vector<int>> rows(static_cast<std::size_t>(ids.shape(0)));
  const int64_t* id = ids.data();
  for (std::size_t layer = 0; layer < rows.size(); ++layer) {
    for (py::ssize_t slot = 0; slot < ids.shape(1); ++slot, ++id) {
      if (*id < 0 || *id >= num_experts) {
        throw std::invalid_argument("layer " + std::to_string(layer) + ", slot " +
                                    std::to_string(slot) + " holds expert " + std::to_string(*id) +
                                    "; expected 0.." + std::to_string(num_experts - 1));
      }
      rows[layer].push_back(static_cast<int>(*id));
    }
  }
  return rows;
}

void copies_from_log2phy(py::handle log2phy, eplb::SlotTable& table) {
  py::object source = py::reinterpret_borrow<py::object>(log2phy);
  if (is_torch_tensor(log2phy)) source = source.attr("detach")().attr("cpu")().attr("numpy")();
  const auto map = py::array_t<int64_t, py::array::c_style>(numpy_array(source, py::str("int64")));
  if (map.ndim() != 3 || map.shape(0) != table.num_layers || map.shape(1) != table.num_experts) {
    throw std::invalid_argument("log2phy has shape " + shape_text(map) + "; expected [" +
                                std::to_string(table.num_layers) + ", " +
                                std::to_string(table.num_experts) + ", max copies]");
  }
  std::vector<int> listed(table.phy2log.size(), 0);
  const int64_t* slot = map.data();
  for (int layer = 0; layer < table.num_layers; ++layer) {
    const std::size_t row = static_cast<std::size_t>(layer) * table.num_replicas;
    for (int expert = 0; expert < table.num_experts; ++expert) {
      for (py::ssize_t copy = 0; copy < map.shape(2); ++copy, ++slot) {
        if (*slot == -1) continue;
        if (*slot < 0 || *slot >= table.num_replicas || table.phy2log[row + *slot] != expert) {
          throw std::invalid_argument("log2phy of layer " + std::to_string(layer) + ", expert " +
                                      std::to_string(expert) + " lists slot " +
                                      std::to_string(*slot) + ", which phy2log does not give it");
        }
        table.copy[row + *slot] = static_cast<int>(copy);
        ++listed[row + *slot];
      }
    }
  }
  const auto unlisted = std::find_if(listed.begin(), listed.end(), [](int n) { return n != 1; });
  if (unlisted != listed.end()) {
    const auto index = static_cast<int>(unlisted - listed.begin());
    throw std::invalid_argument("log2phy lists slot " + std::to_string(index % table.num_replicas) +
                                " of layer " + std::to_string(index / table.num_replicas) + " " +
                                std::to_string(*unlisted) + " times; expected once");
  }
}

bool torch_available() {
  static const bool available = [] {
    try {
      py::module_::import("torch");
      return true;
    } catch (const py::error_already_set&) {
      return false;
    }
  }();
  return available;
}

py::object rows_to_python(const std::vector<std::vector<int>>& rows) {
  const std::size_t replicas = rows.empty() ? 0 : rows[0].size();
  py::array_t<int64_t> phy2log({rows.size(), replicas});
  int64_t* out = phy2log.mutable_data();
  for (std::size_t layer = 0; layer < rows.size(); ++layer) {
    if (rows[layer].size() != replicas) {
      throw std::invalid_argument("layer " + std::to_string(layer) + " has " +
                                  std::to_string(rows[layer].size()) + " slots; layer 0 has " +
                                  std::to_string(replicas));
    }
    out = std::copy(rows[layer].begin(), rows[layer].end(), out);
  }
  return as_output(std::move(phy2log));
}

py::tuple plan_to_python(const eplb::SlotTable& table) {
  const int max_copies = table.max_copies();
  py::array_t<int64_t> log2phy({table.num_layers, table.num_experts, max_copies});
  py::array_t<int64_t> logcnt({table.num_layers, table.num_experts});
  const auto per_layer = static_cast<std::size_t>(table.num_experts) * max_copies;
  std::vector<int> layer_map(per_layer), layer_counts(static_cast<std::size_t>(table.num_experts));
  int64_t* map_out = log2phy.mutable_data();
  int64_t* count_out = logcnt.mutable_data();
  for (int layer = 0; layer < table.num_layers; ++layer) {
    eplb::layer_log2phy(table, layer, max_copies, layer_map.data(), layer_counts.data());
    map_out = std::copy(layer_map.begin(), layer_map.end(), map_out);
    count_out = std::copy(layer_counts.begin(), layer_counts.end(), count_out);
  }
  py::array_t<int64_t> phy2log({table.num_layers, table.num_replicas});
  std::copy(table.phy2log.begin(), table.phy2log.end(), phy2log.mutable_data());
  return py::make_tuple(as_output(std::move(phy2log)), as_output(std::move(log2phy)),
                        as_output(std::move(logcnt)));
}

py::object loads_to_python(const eplb::LoadMatrix& loads) {
  py::array_t<float> array({loads.rows(), loads.cols()});
  std::copy(loads.data(), loads.data() + loads.size(), array.mutable_data());
  return as_output(std::move(array));
}

py::object series_to_python(const eplb::LoadSeries& series) {
  const eplb::LoadMatrix& first = series.front();
  py::array_t<float> array({static_cast<py::ssize_t>(series.size()), first.rows(), first.cols()});
  float* out = array.mutable_data();
  for (const eplb::LoadMatrix& step : series)
    out = std::copy(step.data(), step.data() + step.size(), out);
  return as_output(std::move(array));
}

}  // namespace dualpipe::python
