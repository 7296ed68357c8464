#include "dualpipe/trace/kernel_classifier.h"

#include <re2/re2.h>

#include <stdexcept>

namespace dualpipe::trace {

KernelClassifier::KernelClassifier(const std::string& communication_regex) {
  RE2::Options options;
  options.set_case_sensitive(false);
  options.set_log_errors(false);
  auto compiled = std::make_shared<const re2::RE2>(communication_regex, options);
  if (!compiled->ok()) {
    throw std::invalid_argument("invalid communication regex '" + communication_regex +
                                "': " + compiled->error());
  }
  communication_ = std::move(compiled);
}

KernelKind KernelClassifier::classify(const std::string& name, const std::string& category) const {
  if (category == "gpu_memcpy" || name.rfind("Memcpy", 0) == 0) return KernelKind::kMemcpy;
  if (category == "gpu_memset" || name.rfind("Memset", 0) == 0) return KernelKind::kMemset;
  if (RE2::PartialMatch(name, *communication_)) return KernelKind::kCommunication;
  return KernelKind::kCompute;
}

}  // namespace dualpipe::trace
