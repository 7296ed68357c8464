// Gradient buckets: how a list of parameters is laid out in flat buffers for reduction and for a
// sharded optimizer (consecutive parameters up to a byte budget; each buffer padded to a multiple
// of the ranks that share it, rank i owning slice i).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace dualpipe::runtime {

// One flat buffer: parameters [first, end) of the list, back to back.
struct BucketLayout {
  std::size_t first = 0;         // index of its first parameter
  std::size_t end = 0;           // one past its last parameter
  std::vector<int64_t> offsets;  // element offset of each of its parameters in the buffer
  int64_t numel = 0;             // elements of its parameters
  int64_t padded = 0;            // numel rounded up to a multiple of the members
  int members = 1;               // ranks sharing the buffer

  // Elements of each member's slice.
  int64_t shard_numel() const { return padded / members; }
};

// Splits parameters of `numels` elements (each `element_bytes` bytes) into buckets of at most
// `bucket_bytes` (a larger parameter gets a bucket of its own), in order, for `members` ranks.
// Throws std::invalid_argument for members < 1, bucket_bytes < 1 or a negative size.
std::vector<BucketLayout> plan_buckets(const std::vector<int64_t>& numels, int64_t element_bytes,
                                       int64_t bucket_bytes, int members);

}  // namespace dualpipe::runtime
