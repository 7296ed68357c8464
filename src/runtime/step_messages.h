// StepMessages: the communication actions of a pipeline step (SEND_/RECV_ of activations and
// gradients), one by one or bundled into one transfer, with layout headers while layouts are
// being learned.
#pragma once

#include <optional>
#include <vector>

#include "dualpipe/schedule/action.h"
#include "step_state.h"

namespace dualpipe::runtime {

// Posts a step's sends and receives. After this rank failed it keeps its messages going (zeros of
// the known layout, or a "failed" header), so no peer waits forever.
class StepMessages {
 public:
  explicit StepMessages(StepState& state) : step_(state) {}

  // Runs the communication action `action`.
  void run(const schedule::Action& action);

  // The layouts of the messages of `actions` (consecutive communication actions with one peer)
  // when they can travel as one flat buffer: training (every message is sent), layouts known on
  // both sides (no headers) and one element type. Else nullopt.
  std::optional<std::vector<MessageMeta>> bundle_layouts(
      const std::vector<schedule::Action>& actions);

  // Runs the actions of one bundle (schedule::message_bundles) as one transfer; `layouts` from
  // bundle_layouts.
  void run_bundle(const std::vector<schedule::Action>& actions,
                  const std::vector<MessageMeta>& layouts);

  // Waits for receives that nobody consumed (after a failure), so no transfer outlives its buffer.
  void wait_for_unconsumed_receives();

 private:
  int tag(bool gradient, const schedule::Chunk& producer) const;
  TensorList* sent_tensors(const schedule::Action& action);
  std::optional<TensorList> payload_of(const schedule::Action& action, const TensorList& tensors);
  void send(const schedule::Action& action, const TensorList* tensors);
  PendingReceive& receive_slot(const schedule::Action& action);
  bool receive(const schedule::Action& action, PendingReceive& into);
  void finish_send(const schedule::Action& action);
  void send_bundle(const std::vector<schedule::Action>& actions);
  void receive_bundle(const std::vector<schedule::Action>& actions,
                      const std::vector<MessageMeta>& layouts);

  StepState& step_;
};

}  // namespace dualpipe::runtime
