// StepRun: one pipeline step on this rank, driving its program's actions in order through the
// step's compute and messages.
#pragma once

#include <vector>

#include "prepared_schedule.h"
#include "step_compute.h"
#include "step_messages.h"
#include "step_state.h"

namespace dualpipe::runtime {

// Runs this rank's program of a prepared schedule. A compute action that throws marks the rank as
// failed (StepState::failure) and the program goes on with its messages only; a communication
// failure (CommunicationError) stops it and propagates.
class StepRun {
 public:
  StepRun(const StepContext& context, const PreparedSchedule& prepared, const StepInput& input,
          bool training, bool headers);

  StepState& state() { return state_; }

  // Runs every action of this rank's program (bundles of messages as one transfer where their
  // layouts allow), each inside a profiler scope named by its annotation label, then waits for
  // unconsumed receives and for every send.
  void run();

 private:
  void execute(const schedule::Action& action);
  // Tells the gradient sync which local stages' gradients are final after action `position`.
  void announce_final_gradients(std::size_t position);

  const PreparedSchedule& prepared_;
  StepState state_;
  StepCompute compute_;
  StepMessages messages_;
};

}  // namespace dualpipe::runtime
