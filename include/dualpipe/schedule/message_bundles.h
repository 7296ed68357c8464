// message_bundles: which consecutive point-to-point messages of a program can travel as one
// transfer, because the peer also handles them one after the other, in the same order.
#pragma once

#include <vector>

#include "dualpipe/schedule/schedule.h"

namespace dualpipe::schedule {

// For each action of `rank`'s program: how many actions, starting at this one, form one bundle of
// messages to (or from) one peer. A bundle is a maximal run of SEND_ actions to one peer (or RECV_
// actions from one peer) whose matching RECV_ (or SEND_) actions are adjacent in the peer's
// program in the same order; both ranks find the same bundles. 0 marks an action inside a bundle
// that starts earlier; compute actions and unbundled messages get 1.
std::vector<int> message_bundles(const Schedule& schedule, int rank);

}  // namespace dualpipe::schedule
