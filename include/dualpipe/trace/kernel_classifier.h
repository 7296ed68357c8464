// Kernel classification: tells communication kernels from compute kernels by name.
#pragma once

#include <regex>
#include <string>

namespace dualpipe::trace {

// What a GPU kernel (or GPU activity) is for.
enum class KernelKind { kCompute, kCommunication, kMemcpy, kMemset };

// Default communication pattern: NCCL kernels (old "ncclKernel_*" and new "ncclDevKernel_*"
// names), DeepEP all-to-all kernels (public "deep_ep::" and DeepSeek's internal "dpsk::ep::"
// namespaces, including their notify/layout kernels) and generic all-to-all / collective names.
// Plain words such as "dispatch" are left out: they also name compute kernels.
inline constexpr const char* kDefaultCommunicationRegex =
    R"(nccl|deep_?ep::|dpsk::ep::|all_?to_?all|AllGather|ReduceScatter|AllReduce|SendRecv)";

// Classifies kernels by a user-supplied regular expression (ECMAScript, case-insensitive).
class KernelClassifier {
 public:
  // Throws std::invalid_argument with the regex error when `communication_regex` is malformed.
  explicit KernelClassifier(const std::string& communication_regex = kDefaultCommunicationRegex);

  // `category` is the Chrome-trace "cat" of the event ("kernel", "gpu_memcpy", "gpu_memset").
  KernelKind classify(const std::string& name, const std::string& category = "kernel") const;

 private:
  std::regex communication_;
};

}  // namespace dualpipe::trace
