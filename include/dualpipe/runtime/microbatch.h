// Micro-batches: splitting a batch of tensors into equal micro-batches and joining results again.
#pragma once

#include <cstdint>
#include <vector>

#include "dualpipe/runtime/pipeline_stage.h"

namespace dualpipe::runtime {

// Splits every tensor of `batch` into `count` equal slices along `batch_dim` (views, no copies);
// result[i] holds slice i of each tensor. Throws std::invalid_argument naming the tensor when its
// size along batch_dim is not a multiple of count, or when the tensors' batch sizes differ.
std::vector<TensorList> split_microbatches(const TensorList& batch, int count, int64_t batch_dim);

// Inverse of split_microbatches: concatenates the i-th tensor of every micro-batch along
// `batch_dim`. Throws std::invalid_argument when micro-batches hold different numbers of tensors.
TensorList join_microbatches(const std::vector<TensorList>& microbatches, int64_t batch_dim);

}  // namespace dualpipe::runtime
