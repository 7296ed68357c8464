#include "step_state.h"

#include "communication_error.h"

namespace dualpipe::runtime {

StepState::StepState(const StepContext& step_context, const schedule::Schedule& s,
                     const StepInput& step_input, bool is_training, bool with_headers)
    : context(step_context),
      schedule(s),
      input(step_input),
      training(is_training),
      headers(with_headers),
      microbatches_per_direction(s.microbatches_per_direction()),
      chunks(static_cast<std::size_t>(s.num_directions() * s.num_stages *
                                      microbatches_per_direction)) {}

ChunkState& StepState::state(const schedule::Chunk& c) {
  return chunks.at(static_cast<std::size_t>(
      (c.direction * schedule.num_stages + c.stage) * microbatches_per_direction + c.microbatch));
}

int StepState::stage_index(const schedule::Chunk& c) const {
  for (std::size_t i = 0; i < context.stages.size(); ++i) {
    const LocalStage& s = context.stages[i];
    if (s.direction == c.direction && s.stage == c.stage) return static_cast<int>(i);
  }
  throw std::logic_error("no module for stage " + std::to_string(c.stage));
}

void StepState::fail(const schedule::Action& action, const std::exception& error) {
  if (!failure.empty()) return;
  failure = schedule::to_string(action) + ": " + first_line_of(error);
  context.weight_grads.clear();
  for (ChunkState& st : chunks) {
    st.inputs.clear();
    st.outputs.clear();
    st.loss = torch::Tensor();
  }
}

StepResult StepState::result() {
  StepResult r;
  r.microbatches.assign(finished.begin(), finished.end());
  std::vector<torch::Tensor> loss_values;
  for (const auto& entry : losses) loss_values.push_back(entry.second);
  if (!loss_values.empty()) r.losses = torch::stack(loss_values);
  for (auto& entry : outputs) r.outputs.push_back(std::move(entry.second));
  return r;
}

}  // namespace dualpipe::runtime
