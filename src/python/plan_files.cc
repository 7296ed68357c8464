#include "plan_files.h"

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <stdexcept>

#include "dualpipe/eplb/load_reader.h"
#include "dualpipe/eplb/parse_error.h"
#include "dualpipe/eplb/plan_formats.h"
#include "python_arrays.h"

namespace dualpipe::python {
namespace {

using namespace pybind11::literals;

std::string read_file(const std::string& path) {
  py::object file = py::module_::import("builtins").attr("open")(path, "rb");
  py::bytes content = file.attr("read")();
  file.attr("close")();
  return content;
}

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

std::string shape_text(py::handle tensor) {
  std::string text = "[";
  bool first = true;
  for (py::handle size : tensor.attr("shape")) {
    text += (first ? "" : ", ") + std::string(py::str(size));
    first = false;
  }
  return text + "]";
}

// The "logical_count" of a torch.save dict, as eplb-plan's LibTorch plugin reads it.
eplb::LoadSeries read_torch_dump(const std::string& content) {
  if (!torch_available()) {
    throw std::invalid_argument("reading .pt needs torch; convert to .npy");
  }
  py::module_ torch = py::module_::import("torch");
  py::object value;
  try {
    value = torch.attr("load")(py::module_::import("io").attr("BytesIO")(py::bytes(content)),
                               "map_location"_a = "cpu", "weights_only"_a = true);
  } catch (const py::error_already_set& error) {
    throw std::invalid_argument("not a readable torch.save file: " +
                                first_line(py::str(error.value())));
  }
  const char* const expected = "expected a dict with a \"logical_count\" tensor";
  if (!py::isinstance<py::dict>(value) || !value.contains("logical_count")) {
    throw std::invalid_argument(expected);
  }
  py::object counts = value["logical_count"];
  if (!py::isinstance(counts, torch.attr("Tensor"))) throw std::invalid_argument(expected);
  const std::string shape = shape_text(counts);
  counts = counts.attr("to")(torch.attr("float64")).attr("contiguous")();
  if (counts.attr("dim")().cast<int>() == 2) counts = counts.attr("unsqueeze")(0);
  if (counts.attr("dim")().cast<int>() != 3 || counts.attr("numel")().cast<long long>() == 0) {
    throw std::invalid_argument("logical_count has shape " + shape +
                                "; expected [layers, experts] or [steps, layers, experts], not "
                                "empty");
  }
  const auto values = py::array_t<double, py::array::c_style>(counts.attr("numpy")());
  return eplb::series_from_values(values.data(), values.shape(0), values.shape(1), values.shape(2),
                                  "logical_count");
}

}  // namespace

eplb::LoadSeries read_load_series(const std::string& path) {
  const std::string content = read_file(path);
  try {
    if (eplb::is_torch_save_file(content, path)) return read_torch_dump(content);
    return eplb::parse_loads(content, path);
  } catch (const std::exception& error) {  // ParseError and the dump's complaints
    throw std::invalid_argument(path + ": " + error.what());
  }
}

std::vector<std::vector<int>> read_plan_rows(const std::string& path) {
  const std::string content = read_file(path);
  try {
    return eplb::parse_plan_phy2log(content);
  } catch (const eplb::ParseError& error) {
    throw std::invalid_argument(path + ": " + error.what());
  }
}

void write_text_file(const std::string& path, const std::string& text) {
  py::module_ os = py::module_::import("os");
  const std::string temporary = path + ".tmp" + std::string(py::str(os.attr("getpid")()));
  try {
    py::object file = py::module_::import("builtins").attr("open")(temporary, "w");
    file.attr("write")(text);
    file.attr("close")();
    os.attr("replace")(temporary, path);
  } catch (const py::error_already_set&) {
    if (os.attr("path").attr("exists")(temporary).cast<bool>()) os.attr("remove")(temporary);
    throw;
  }
}

}  // namespace dualpipe::python
