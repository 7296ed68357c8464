#include "dualpipe/schedule/generators.h"

#include <stdexcept>

namespace dualpipe::schedule {

std::vector<std::string> schedule_names() {
  return {"dualpipe", "dualpipev", "1f1b", "zb1p", "interleaved-1f1b", "gpipe"};
}

Schedule generate_schedule(const std::string& name, int num_ranks, int num_microbatches,
                           int virtual_stages) {
  if (name == "dualpipe") return generate_dualpipe(num_ranks, num_microbatches);
  if (name == "dualpipev") return generate_dualpipev(num_ranks, num_microbatches);
  if (name == "1f1b") return generate_1f1b(num_ranks, num_microbatches);
  if (name == "zb1p") return generate_zb1p(num_ranks, num_microbatches);
  if (name == "interleaved-1f1b") {
    return generate_interleaved_1f1b(num_ranks, num_microbatches, virtual_stages);
  }
  if (name == "gpipe") return generate_gpipe(num_ranks, num_microbatches);
  std::string known;
  for (const std::string& candidate : schedule_names()) {
    known += (known.empty() ? "" : ", ") + candidate;
  }
  throw std::invalid_argument("unknown schedule '" + name + "' (expected one of " + known + ")");
}

}  // namespace dualpipe::schedule
