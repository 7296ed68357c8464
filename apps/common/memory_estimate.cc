#include "memory_estimate.h"

#include <unistd.h>

#include <cmath>
#include <stdexcept>

#include "byte_size.h"

namespace dualpipe::apps {

double physical_memory_bytes() {
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long page_size = ::sysconf(_SC_PAGESIZE);
  return pages > 0 && page_size > 0 ? double(pages) * double(page_size) : 0.0;
}

void refuse_beyond_memory(double bytes, const std::string& what, double available_bytes) {
  if (std::isfinite(bytes) && bytes <= available_bytes) return;
  throw std::invalid_argument(what + " needs at least about " +
                              (std::isfinite(bytes) ? byte_size_text(bytes) : "infinite memory") +
                              " (estimate), more than the " + byte_size_text(available_bytes) +
                              " of memory of this machine");
}

}  // namespace dualpipe::apps
