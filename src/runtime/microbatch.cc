#include "dualpipe/runtime/microbatch.h"

#include <stdexcept>
#include <string>

namespace dualpipe::runtime {

std::vector<TensorList> split_microbatches(const TensorList& batch, int count, int64_t batch_dim) {
  if (count < 1)
    throw std::invalid_argument("micro-batch count must be >= 1, got " + std::to_string(count));
  std::vector<TensorList> result(static_cast<std::size_t>(count));
  int64_t batch_size = -1;
  for (std::size_t t = 0; t < batch.size(); ++t) {
    const torch::Tensor& tensor = batch[t];
    const std::string name = "tensor " + std::to_string(t);
    if (!tensor.defined()) throw std::invalid_argument(name + " of the batch is undefined");
    if (batch_dim < 0 || batch_dim >= tensor.dim()) {
      throw std::invalid_argument(name + " of the batch has " + std::to_string(tensor.dim()) +
                                  " dimensions, so it has no batch dimension " +
                                  std::to_string(batch_dim));
    }
    const int64_t size = tensor.size(batch_dim);
    if (batch_size >= 0 && size != batch_size) {
      throw std::invalid_argument(name + " of the batch has " + std::to_string(size) +
                                  " samples along dimension " + std::to_string(batch_dim) +
                                  ", tensor 0 has " + std::to_string(batch_size));
    }
    batch_size = size;
    if (size % count != 0) {
      throw std::invalid_argument(name + " of the batch has " + std::to_string(size) +
                                  " samples along dimension " + std::to_string(batch_dim) +
                                  ", which do not split into " + std::to_string(count) +
                                  " equal micro-batches");
    }
    const std::vector<torch::Tensor> slices = tensor.chunk(count, batch_dim);
    for (int i = 0; i < count; ++i)
      result[static_cast<std::size_t>(i)].push_back(slices[static_cast<std::size_t>(i)]);
  }
  return result;
}

TensorList join_microbatches(const std::vector<TensorList>& microbatches, int64_t batch_dim) {
  if (microbatches.empty()) return {};
  const std::size_t width = microbatches.front().size();
  TensorList joined;
  for (std::size_t t = 0; t < width; ++t) {
    std::vector<torch::Tensor> parts;
    for (const TensorList& microbatch : microbatches) {
      if (microbatch.size() != width) {
        throw std::invalid_argument("micro-batches hold different numbers of tensors (" +
                                    std::to_string(width) + " and " +
                                    std::to_string(microbatch.size()) + ")");
      }
      parts.push_back(microbatch[t]);
    }
    joined.push_back(torch::cat(parts, batch_dim));
  }
  return joined;
}

}  // namespace dualpipe::runtime
