#include "dualpipe/trace/kernel_classifier.h"

#include <stdexcept>

namespace dualpipe::trace {

KernelClassifier::KernelClassifier(const std::string& communication_regex) {
  try {
    communication_ = std::regex(communication_regex, std::regex::ECMAScript | std::regex::icase);
  } catch (const std::regex_error& error) {
    throw std::invalid_argument("invalid communication regex '" + communication_regex +
                                "': " + error.what());
  }
}

KernelKind KernelClassifier::classify(const std::string& name, const std::string& category) const {
  if (category == "gpu_memcpy" || name.rfind("Memcpy", 0) == 0) return KernelKind::kMemcpy;
  if (category == "gpu_memset" || name.rfind("Memset", 0) == 0) return KernelKind::kMemset;
  if (std::regex_search(name, communication_)) return KernelKind::kCommunication;
  return KernelKind::kCompute;
}

}  // namespace dualpipe::trace
