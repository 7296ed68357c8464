// The LibTorch plugin of eplb-plan (pt_plugin_abi.h): unpickles a torch.save dict and copies out
// its "logical_count" tensor. Nothing but the C functions is exported; no C++ exception leaves it.
#include <torch/serialize.h>
#include <torch/torch.h>

#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include "pt_plugin_abi.h"

#define DUALPIPE_PT_EXPORT extern "C" __attribute__((visibility("default")))

namespace {

// "logical_count" of the unpickled file as a contiguous float64 [steps, layers, experts] tensor.
torch::Tensor logical_count(const char* bytes, std::size_t size) {
  c10::IValue value;
  try {
    value = torch::pickle_load(std::vector<char>(bytes, bytes + size));
  } catch (const c10::Error& error) {
    std::string message = error.what_without_backtrace();
    message = message.substr(0, message.find('\n'));
    throw std::runtime_error("not a readable torch.save file: " + message);
  }
  const char* const expected = "expected a dict with a \"logical_count\" tensor";
  if (!value.isGenericDict()) throw std::runtime_error(expected);
  const auto dict = value.toGenericDict();
  const auto entry = dict.find(c10::IValue(std::string("logical_count")));
  if (entry == dict.end() || !entry->value().isTensor()) throw std::runtime_error(expected);
  torch::Tensor counts = entry->value().toTensor().to(torch::kFloat64).contiguous();
  if (counts.dim() == 2) counts = counts.unsqueeze(0);
  if (counts.dim() != 3 || counts.numel() == 0) {
    throw std::runtime_error("logical_count has shape " +
                             c10::str(entry->value().toTensor().sizes()) +
                             "; expected [layers, experts] or [steps, layers, experts], not empty");
  }
  return counts;
}

void write_error(const char* message, char* error, std::size_t error_size) {
  if (error_size == 0) return;
  std::strncpy(error, message, error_size - 1);
  error[error_size - 1] = '\0';
}

}  // namespace

DUALPIPE_PT_EXPORT int dualpipe_pt_plugin_abi_version(void) {
  return DUALPIPE_PT_PLUGIN_ABI_VERSION;
}

DUALPIPE_PT_EXPORT int dualpipe_read_pt_loads(const char* bytes, size_t size, int64_t shape[3],
                                              double** values, char* error, size_t error_size) {
  try {
    const torch::Tensor counts = logical_count(bytes, size);
    const auto count = static_cast<std::size_t>(counts.numel());
    auto* copy = static_cast<double*>(std::malloc(count * sizeof(double)));
    if (copy == nullptr) throw std::bad_alloc();
    std::memcpy(copy, counts.data_ptr<double>(), count * sizeof(double));
    for (int d = 0; d < 3; ++d) shape[d] = counts.size(d);
    *values = copy;
    return 0;
  } catch (const std::exception& exception) {
    write_error(exception.what(), error, error_size);
  } catch (...) {
    write_error("unknown error while reading the torch.save file", error, error_size);
  }
  return 1;
}

DUALPIPE_PT_EXPORT void dualpipe_free_pt_loads(double* values) { std::free(values); }
