#include "dualpipe/moe/exchange_log.h"

#include <stdexcept>

namespace dualpipe::moe {

std::vector<torch::Tensor> ExchangeLog::next() {
  if (next_ >= records_.size())
    throw std::logic_error("recomputed forward: more exchanges than the first forward made");
  return records_[next_++];
}

}  // namespace dualpipe::moe
