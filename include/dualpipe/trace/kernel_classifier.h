// Kernel classification: tells communication kernels from compute kernels by name. This is the one
// place where the toolkit matches a user-supplied regular expression.
#pragma once

#include <memory>
#include <string>

namespace re2 {
class RE2;
}

namespace dualpipe::trace {

// What a GPU kernel (or GPU activity) is for.
enum class KernelKind { kCompute, kCommunication, kMemcpy, kMemset };

// Default communication pattern: NCCL kernels (old "ncclKernel_*" and new "ncclDevKernel_*"
// names), DeepEP all-to-all kernels (public "deep_ep::" and DeepSeek's internal "dpsk::ep::"
// namespaces, including their notify/layout kernels) and generic all-to-all / collective names.
// Plain words such as "dispatch" are left out: they also name compute kernels.
inline constexpr const char* kDefaultCommunicationRegex =
    R"(nccl|gloo:|deep_?ep::|dpsk::ep::|all_?to_?all|AllGather|ReduceScatter|AllReduce|SendRecv)";

// Classifies kernels by a user-supplied regular expression in RE2 syntax, matched anywhere in the
// name and case-insensitively. RE2 matches in time linear in the name's length whatever the
// pattern, so no pattern or name can make classification crash or hang. Copies share the
// compiled pattern; classify() may be called from several threads at once.
class KernelClassifier {
 public:
  // Throws std::invalid_argument "invalid communication regex '...': <reason>" when the pattern
  // does not compile (syntax, or larger than RE2's memory budget).
  explicit KernelClassifier(const std::string& communication_regex = kDefaultCommunicationRegex);

  // `category` is the Chrome-trace "cat" of the event ("kernel", "gpu_memcpy", "gpu_memset").
  KernelKind classify(const std::string& name, const std::string& category = "kernel") const;

 private:
  std::shared_ptr<const re2::RE2> communication_;
};

}  // namespace dualpipe::trace
