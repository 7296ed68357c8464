#include "dualpipe/trace/kernel_classifier.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <utility>

namespace dualpipe::trace {
namespace {

TEST(KernelClassifier, DefaultTellsNcclAndDeepEpKernelsFromGemms) {
  const std::pair<const char*, KernelKind> cases[] = {
      // NCCL kernels of old and new names.
      {"ncclKernel_AllReduce_RING_LL_Sum_float(ncclWorkElem)", KernelKind::kCommunication},
      {"ncclDevKernel_SendRecv(ncclDevKernelArgsStorage<4096ul>)", KernelKind::kCommunication},
      // DeepEP all-to-all kernels.
      {"void deep_ep::intranode::dispatch<8, 768>(int4*, float*)", KernelKind::kCommunication},
      {"void deep_ep::internode::combine<true, 8>(...)", KernelKind::kCommunication},
      // A GEMM.
      {"sm90_xmma_gemm_bf16bf16_bf16f32_f32_tn_n_tilesize128x128x64", KernelKind::kCompute},
  };
  const KernelClassifier classifier;
  for (const auto& [name, kind] : cases) EXPECT_EQ(classifier.classify(name), kind) << name;
}

TEST(KernelClassifier, MemcpyAndMemsetStandApart) {
  KernelClassifier classifier;
  EXPECT_EQ(classifier.classify("Memcpy DtoD (Device -> Device)", "gpu_memcpy"),
            KernelKind::kMemcpy);
  EXPECT_EQ(classifier.classify("Memset (Device)", "gpu_memset"), KernelKind::kMemset);
}

TEST(KernelClassifier, UserRegexReplacesTheDefault) {
  KernelClassifier classifier("my_comm");
  EXPECT_EQ(classifier.classify("my_comm_kernel"), KernelKind::kCommunication);
  EXPECT_EQ(classifier.classify("ncclDevKernel_SendRecv"), KernelKind::kCompute);
}

TEST(KernelClassifier, MalformedRegexIsAClearError) {
  EXPECT_THROW(KernelClassifier("(unclosed"), std::invalid_argument);
}

}  // namespace
}  // namespace dualpipe::trace
