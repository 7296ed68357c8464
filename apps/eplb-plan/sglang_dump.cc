#include "sglang_dump.h"

#include <torch/serialize.h>
#include <torch/torch.h>

#include <stdexcept>
#include <vector>

#include "dualpipe/eplb/parse_error.h"

namespace dualpipe::apps {

bool is_torch_file(const std::string& path, const std::string& content) {
  const bool pt_extension = path.size() >= 3 && path.compare(path.size() - 3, 3, ".pt") == 0;
  return pt_extension || content.rfind("PK\x03\x04", 0) == 0;
}

dualpipe::eplb::LoadSeries read_sglang_dump(const std::string& path, const std::string& content) {
  auto fail = [&](const std::string& message) { return std::runtime_error(path + ": " + message); };
  c10::IValue value;
  try {
    value = torch::pickle_load(std::vector<char>(content.begin(), content.end()));
  } catch (const c10::Error& error) {
    throw fail("not a readable torch.save file: " + std::string(error.what_without_backtrace()));
  }
  if (!value.isGenericDict()) throw fail("expected a dict with a \"logical_count\" tensor");
  const auto dict = value.toGenericDict();
  const auto entry = dict.find(c10::IValue(std::string("logical_count")));
  if (entry == dict.end() || !entry->value().isTensor()) {
    throw fail("expected a dict with a \"logical_count\" tensor");
  }
  torch::Tensor counts = entry->value().toTensor().to(torch::kFloat64).contiguous();
  if (counts.dim() == 2) counts = counts.unsqueeze(0);
  if (counts.dim() != 3 || counts.numel() == 0) {
    throw fail("logical_count has " + std::to_string(counts.dim()) +
               " dimensions; expected [layers, experts] or [steps, layers, experts]");
  }
  const auto accessor = counts.accessor<double, 3>();
  dualpipe::eplb::LoadSeries series;
  for (int64_t s = 0; s < counts.size(0); ++s) {
    dualpipe::eplb::LoadMatrix loads(counts.size(1), counts.size(2));
    for (int64_t l = 0; l < counts.size(1); ++l) {
      for (int64_t e = 0; e < counts.size(2); ++e) {
        try {
          loads(l, e) = dualpipe::eplb::checked_load(
              accessor[s][l][e], "logical_count[" + std::to_string(s) + "][" + std::to_string(l) + "][" +
                                     std::to_string(e) + "]");
        } catch (const dualpipe::eplb::ParseError& error) {
          throw fail(error.what());
        }
      }
    }
    series.push_back(std::move(loads));
  }
  return series;
}

}  // namespace dualpipe::apps
