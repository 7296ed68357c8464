// Plain training: the language model trained by one process with a plain LibTorch loop (the whole
// model as one module, forward and backward per micro-batch, AdamW), no pipeline and no Trainer:
// the baseline the toolkit's machinery is measured against.
#pragma once

#include "byte_corpus.h"
#include "dualpipe/moe/language_model.h"

namespace lm {

// How the baseline runs.
struct PlainRun {
  int steps = 10;  // timed
  int warmup = 3;
  int microbatches = 4;
  int64_t rows = 4;  // sequences per micro-batch
  double lr = 3e-3;
  double weight_decay = 0.01;
  double clip_norm = 1.0;
  torch::Device device{torch::kCPU};
  torch::Dtype dtype = torch::kFloat32;
  uint64_t seed = 7;
};

// Trains `run.warmup + run.steps` steps; returns the tokens per second of the timed ones.
double plain_tokens_per_second(const dualpipe::moe::LanguageModelOptions& options,
                               const ByteCorpus& corpus, const PlainRun& run);

}  // namespace lm
