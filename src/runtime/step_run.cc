#include "step_run.h"

#include <ATen/record_function.h>

#include <algorithm>
#include <optional>

#include "communication_error.h"

namespace dualpipe::runtime {

using schedule::Action;

StepRun::StepRun(const StepContext& context, const PreparedSchedule& prepared,
                 const StepInput& input, bool training, bool headers)
    : prepared_(prepared),
      state_(context, prepared.schedule, input, training, headers),
      compute_(state_),
      messages_(state_) {}

void StepRun::execute(const Action& action) {
  if (schedule::is_communication(action.op)) {
    messages_.run(action);
    return;
  }
  if (!state_.failure.empty()) return;
  try {
    compute_.run(action);
  } catch (const CommunicationError&) {
    throw;
  } catch (const std::exception& error) {
    state_.fail(action, error);
  }
}

void StepRun::announce_final_gradients(std::size_t position) {
  GradientSync* sync = state_.context.gradient_sync;
  if (sync == nullptr || !state_.training) return;
  for (int stage : prepared_.gradients_final_after[position]) sync->stage_ready(stage);
}

void StepRun::run() {
  const std::vector<Action>& program =
      prepared_.schedule.programs[static_cast<std::size_t>(state_.rank())];
  P2PTransport& transport = state_.context.transport;
  for (std::size_t i = 0; i < program.size();) {
    auto length = static_cast<std::size_t>(std::max(prepared_.bundles[i], 1));
    std::vector<Action> bundle;
    std::optional<std::vector<MessageMeta>> layouts;
    if (length > 1) {
      bundle.assign(program.begin() + static_cast<std::ptrdiff_t>(i),
                    program.begin() + static_cast<std::ptrdiff_t>(i + length));
      layouts = messages_.bundle_layouts(bundle);
      if (!layouts) length = 1;  // e.g. layouts not known yet: the actions run one by one
    }
    {
      RECORD_USER_SCOPE(prepared_.labels[i].c_str());
      if (length == 1) {
        execute(program[i]);
      } else {
        messages_.run_bundle(bundle, *layouts);
      }
    }
    // The other actions of a bundle ran inside the first one's scope; theirs mark where they are.
    for (std::size_t k = i + 1; k < i + length; ++k) {
      RECORD_USER_SCOPE(prepared_.labels[k].c_str());
    }
    if (length == 1) announce_final_gradients(i);
    transport.release_finished_sends();
    i += length;
  }
  messages_.wait_for_unconsumed_receives();
  communicate("waiting for sends to complete", [&] {
    transport.wait_for_sends();
    return 0;
  });
}

}  // namespace dualpipe::runtime
