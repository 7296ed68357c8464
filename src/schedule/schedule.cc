#include "dualpipe/schedule/schedule.h"

namespace dualpipe::schedule {

int Schedule::microbatches_per_direction() const {
  return num_directions() == 0 ? 0 : num_microbatches / num_directions();
}

}  // namespace dualpipe::schedule
