#include "dualpipe/runtime/gradient_buckets.h"

#include <stdexcept>
#include <string>

namespace dualpipe::runtime {

namespace {

void close_bucket(BucketLayout& bucket, std::vector<BucketLayout>& buckets) {
  bucket.padded = (bucket.numel + bucket.members - 1) / bucket.members * bucket.members;
  buckets.push_back(bucket);
}

}  // namespace

std::vector<BucketLayout> plan_buckets(const std::vector<int64_t>& numels, int64_t element_bytes,
                                       int64_t bucket_bytes, int members) {
  if (members < 1) throw std::invalid_argument("a bucket needs at least one member");
  if (bucket_bytes < 1 || element_bytes < 1)
    throw std::invalid_argument("bucket size must be positive, got " +
                                std::to_string(bucket_bytes) + " bytes");
  std::vector<BucketLayout> buckets;
  BucketLayout bucket;
  bucket.members = members;
  for (std::size_t i = 0; i < numels.size(); ++i) {
    if (numels[i] < 0) throw std::invalid_argument("a parameter has a negative size");
    const bool full = (bucket.numel + numels[i]) * element_bytes > bucket_bytes;
    if (bucket.end > bucket.first && full) {
      close_bucket(bucket, buckets);
      bucket = BucketLayout{};
      bucket.members = members;
      bucket.first = i;
    }
    bucket.offsets.push_back(bucket.numel);
    bucket.numel += numels[i];
    bucket.end = i + 1;
  }
  if (bucket.end > bucket.first) close_bucket(bucket, buckets);
  return buckets;
}

}  // namespace dualpipe::runtime
