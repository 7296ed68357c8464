// ByteCorpus: real text as byte tokens (vocabulary 256) for the language-model example: a file or
// every regular file of a folder, split into a training part and a held-out part.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <string>

namespace lm {

// A pair of token tensors [rows, sequence] (int64): inputs and the next byte of each.
struct TokenBatch {
  torch::Tensor inputs;
  torch::Tensor labels;
};

class ByteCorpus {
 public:
  // Reads `path` (a file, or the regular files of a folder in name order, links skipped) and
  // holds out its last `held_out` fraction. Throws std::runtime_error with one line naming the
  // path when it is missing, unreadable or too short for `sequence`-byte windows in both parts.
  ByteCorpus(const std::string& path, int64_t sequence, double held_out = 0.05);

  // Training windows of step `step` for data-parallel replica `replica`: `rows` random windows,
  // the same on every rank that asks for the same step and replica.
  TokenBatch training_batch(int64_t step, int replica, int64_t rows, uint64_t seed) const;

  // Held-out windows number `index` (evenly spaced through the held-out part).
  TokenBatch held_out_batch(int64_t index, int64_t rows) const;

  int64_t sequence() const { return sequence_; }
  int64_t training_bytes() const { return split_; }
  int64_t held_out_bytes() const { return static_cast<int64_t>(bytes_.size()) - split_; }
  const std::string& bytes() const { return bytes_; }

 private:
  TokenBatch windows(const std::vector<int64_t>& starts) const;

  std::string bytes_;
  int64_t split_;  // first held-out byte
  int64_t sequence_;
};

}  // namespace lm
