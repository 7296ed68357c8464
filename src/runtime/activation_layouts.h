// ActivationLayouts: the layout of the messages crossing each stage boundary of a pipeline,
// declared up front or learned from the headers of a step, and reused by later steps.
#pragma once

#include <map>
#include <stdexcept>
#include <string>
#include <utility>

#include "communication_error.h"
#include "dualpipe/runtime/p2p_transport.h"

namespace dualpipe::runtime {

// Layouts by boundary (direction, stage that sends forward over it). Learned layouts stay valid for
// later steps until some rank's input shapes change; declared ones never change.
class ActivationLayouts {
 public:
  // `declared` empty: layouts are learned from the first step's headers.
  explicit ActivationLayouts(MessageMeta declared) : declared_(std::move(declared)) {
    valid_ = !declared_.empty();
  }

  // True when every boundary's layout is known, so messages need no headers.
  bool valid() const { return valid_; }
  void mark_valid() { valid_ = true; }

  // Forgets learned layouts (declared ones stay).
  void forget() {
    if (!declared_.empty()) return;
    layouts_.clear();
    valid_ = false;
  }

  // Gives every boundary of a schedule with `num_directions` and `num_stages` the declared layout,
  // when one is declared and none is set yet.
  void declare_all(int num_directions, int num_stages) {
    if (declared_.empty() || !layouts_.empty()) return;
    for (int d = 0; d < num_directions; ++d) {
      for (int s = 0; s + 1 < num_stages; ++s) layouts_[{d, s}] = declared_;
    }
  }

  // The layout of the boundary after `sender_stage` of `direction`, or null when unknown.
  MessageMeta* known(int direction, int sender_stage) {
    auto found = layouts_.find({direction, sender_stage});
    return found == layouts_.end() ? nullptr : &found->second;
  }

  // Checks `meta` against the boundary's known layout, or records it when unknown and `learning`
  // (a step with headers). All micro-batches must agree. `what` names the message (a string or a
  // function making one). Throws std::invalid_argument on a mismatch, std::logic_error when the
  // layout is unknown and cannot be learned.
  template <typename What>
  void check(int direction, int sender_stage, const MessageMeta& meta, bool learning,
             const What& what) {
    if (MessageMeta* layout = known(direction, sender_stage)) {
      if (*layout != meta) {
        throw std::invalid_argument(text_of(what) + " has layout " + to_string(meta) +
                                    ", expected " + to_string(*layout) +
                                    " (as declared or as earlier micro-batches had)");
      }
    } else if (learning) {
      layouts_[{direction, sender_stage}] = meta;
    } else {
      throw std::logic_error("no layout known for " + text_of(what));
    }
  }

 private:
  MessageMeta declared_;
  std::map<std::pair<int, int>, MessageMeta> layouts_;
  bool valid_ = false;
};

}  // namespace dualpipe::runtime
