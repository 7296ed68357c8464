#include "dualpipe/trace/kernel_classifier.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace dualpipe::trace {
namespace {

TEST(KernelClassifier, DefaultFindsNcclKernelsOfOldAndNewNames) {
  KernelClassifier classifier;
  EXPECT_EQ(classifier.classify("ncclKernel_AllReduce_RING_LL_Sum_float(ncclWorkElem)"),
            KernelKind::Communication);
  EXPECT_EQ(classifier.classify("ncclDevKernel_SendRecv(ncclDevKernelArgsStorage<4096ul>)"),
            KernelKind::Communication);
}

TEST(KernelClassifier, DefaultFindsDeepEpAllToAllKernels) {
  KernelClassifier classifier;
  EXPECT_EQ(classifier.classify("void deep_ep::intranode::dispatch<8, 768>(int4*, float*)"),
            KernelKind::Communication);
  EXPECT_EQ(classifier.classify("void deep_ep::internode::combine<true, 8>(...)"),
            KernelKind::Communication);
}

TEST(KernelClassifier, GemmsAreCompute) {
  KernelClassifier classifier;
  EXPECT_EQ(classifier.classify("sm90_xmma_gemm_bf16bf16_bf16f32_f32_tn_n_tilesize128x128x64"),
            KernelKind::Compute);
}

TEST(KernelClassifier, MemcpyAndMemsetStandApart) {
  KernelClassifier classifier;
  EXPECT_EQ(classifier.classify("Memcpy DtoD (Device -> Device)", "gpu_memcpy"),
            KernelKind::Memcpy);
  EXPECT_EQ(classifier.classify("Memset (Device)", "gpu_memset"), KernelKind::Memset);
}

TEST(KernelClassifier, UserRegexReplacesTheDefault) {
  KernelClassifier classifier("my_comm");
  EXPECT_EQ(classifier.classify("my_comm_kernel"), KernelKind::Communication);
  EXPECT_EQ(classifier.classify("ncclDevKernel_SendRecv"), KernelKind::Compute);
}

TEST(KernelClassifier, MalformedRegexIsAClearError) {
  EXPECT_THROW(KernelClassifier("(unclosed"), std::invalid_argument);
}

}  // namespace
}  // namespace dualpipe::trace
