#include "byte_corpus.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace lm {

namespace fs = std::filesystem;

namespace {

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("corpus " + path.string() + ": cannot be read");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string read_corpus(const std::string& path) {
  std::error_code error;
  const fs::file_status status = fs::status(path, error);
  if (error || !fs::exists(status)) throw std::runtime_error("corpus " + path + ": no such file or folder");
  if (fs::is_regular_file(status)) return read_file(path);
  if (!fs::is_directory(status)) throw std::runtime_error("corpus " + path + ": not a file or folder");
  std::vector<fs::path> files;
  for (const fs::directory_entry& entry : fs::directory_iterator(path)) {
    if (entry.is_regular_file() && !entry.is_symlink()) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  std::string text;
  for (const fs::path& file : files) text += read_file(file);
  return text;
}

}  // namespace

ByteCorpus::ByteCorpus(const std::string& path, int64_t sequence, double held_out)
    : bytes_(read_corpus(path)), sequence_(sequence) {
  const auto size = static_cast<int64_t>(bytes_.size());
  split_ = size - static_cast<int64_t>(static_cast<double>(size) * held_out);
  if (bytes_.empty()) throw std::runtime_error("corpus " + path + ": holds no text");
  if (split_ <= sequence + 1 || size - split_ <= sequence + 1) {
    throw std::runtime_error("corpus " + path + ": " + std::to_string(size) +
                             " bytes are too few for windows of " + std::to_string(sequence) +
                             " bytes in both the training and the held-out part");
  }
}

TokenBatch ByteCorpus::windows(const std::vector<int64_t>& starts) const {
  const auto rows = static_cast<int64_t>(starts.size());
  torch::Tensor inputs = torch::empty({rows, sequence_}, torch::kLong);
  torch::Tensor labels = torch::empty({rows, sequence_}, torch::kLong);
  auto in = inputs.accessor<int64_t, 2>();
  auto out = labels.accessor<int64_t, 2>();
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t t = 0; t < sequence_; ++t) {
      const auto at = static_cast<std::size_t>(starts[static_cast<std::size_t>(r)] + t);
      in[r][t] = static_cast<unsigned char>(bytes_[at]);
      out[r][t] = static_cast<unsigned char>(bytes_[at + 1]);
    }
  }
  return {inputs, labels};
}

TokenBatch ByteCorpus::training_batch(int64_t step, int replica, int64_t rows,
                                      uint64_t seed) const {
  at::Generator generator = at::detail::createCPUGenerator(
      seed * 1000003ULL + static_cast<uint64_t>(step) * 1009ULL + static_cast<uint64_t>(replica));
  const torch::Tensor starts =
      torch::randint(0, split_ - sequence_ - 1, {rows}, generator, torch::kLong);
  return windows(std::vector<int64_t>(starts.data_ptr<int64_t>(), starts.data_ptr<int64_t>() + rows));
}

TokenBatch ByteCorpus::held_out_batch(int64_t index, int64_t rows) const {
  const int64_t span = held_out_bytes() - sequence_ - 1;
  std::vector<int64_t> starts;
  for (int64_t r = 0; r < rows; ++r)
    starts.push_back(split_ + (span * (index * rows + r) / std::max<int64_t>(1, 4 * rows)) % span);
  return windows(starts);
}

}  // namespace lm
