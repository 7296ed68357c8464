#include "dualpipe/trace/kernel_classifier.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
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
  try {
    KernelClassifier classifier("(unclosed");
    FAIL() << "a malformed pattern was accepted";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find("invalid communication regex '(unclosed'"),
              std::string::npos)
        << error.what();
  }
}

TEST(KernelClassifier, MatchesCaseInsensitivelyAnywhereInTheName) {
  const KernelClassifier classifier("SENDRECV");
  EXPECT_EQ(classifier.classify("ncclDevKernel_SendRecv(args)"), KernelKind::kCommunication);
}

// Patterns that make a backtracking engine recurse or run for exponential time, on a name of 40k
// characters, classify in linear time.
TEST(KernelClassifier, PathologicalPatternsOnLongNamesNeitherCrashNorHang) {
  const std::string long_name(40000, 'a');
  for (const char* pattern : {"(a|aa)*b", "(a*)*b", "(.*)*x", "((a+)+)+$"}) {
    const KernelClassifier classifier(pattern);
    const KernelKind expected =
        std::string(pattern) == "((a+)+)+$" ? KernelKind::kCommunication : KernelKind::kCompute;
    EXPECT_EQ(classifier.classify(long_name), expected) << pattern;
  }
}

TEST(KernelClassifier, PatternsBeyondTheMemoryBudgetAreRefused) {
  EXPECT_THROW(KernelClassifier("(((a{100}){100}){100})"), std::invalid_argument);
}

TEST(KernelClassifier, CopiesShareThePattern) {
  const KernelClassifier original("my_comm");
  const KernelClassifier copy = original;  // NOLINT(performance-unnecessary-copy-initialization)
  EXPECT_EQ(copy.classify("my_comm_kernel"), KernelKind::kCommunication);
}

}  // namespace
}  // namespace dualpipe::trace
