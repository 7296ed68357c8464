#include "dualpipe/schedule/message_bundles.h"

#include <gtest/gtest.h>

#include <map>
#include <tuple>
#include <vector>

#include "dualpipe/schedule/communication.h"
#include "dualpipe/schedule/generators.h"

namespace dualpipe::schedule {
namespace {

bool is_send(Op op) { return op == Op::kSendF || op == Op::kSendB; }

// A message as both of its ends name it: gradient?, producer (direction, stage, micro-batch).
using MessageKey = std::tuple<bool, int, int, int>;

MessageKey key_of(const Action& a) {
  const bool gradient = a.op == Op::kSendB || a.op == Op::kRecvB;
  int stage = a.chunk.stage;
  if (a.op == Op::kRecvF) --stage;
  if (a.op == Op::kRecvB) ++stage;
  return {gradient, a.chunk.direction, stage, a.chunk.microbatch};
}

// Every bundle of every rank, as (sender, receiver) -> ordered lists of message keys.
std::map<std::pair<int, int>, std::vector<std::vector<MessageKey>>> bundles_by_link(
    const Schedule& s, bool sends) {
  std::map<std::pair<int, int>, std::vector<std::vector<MessageKey>>> result;
  for (int r = 0; r < s.num_ranks; ++r) {
    const std::vector<Action>& program = s.programs[static_cast<std::size_t>(r)];
    const std::vector<int> lengths = message_bundles(s, r);
    EXPECT_EQ(lengths.size(), program.size());
    for (std::size_t i = 0; i < program.size(); ++i) {
      if (lengths[i] == 0 || !is_communication(program[i].op) || is_send(program[i].op) != sends)
        continue;
      const int peer = program[i].peer;
      std::vector<MessageKey> bundle;
      for (std::size_t j = i; j < i + static_cast<std::size_t>(lengths[i]); ++j) {
        EXPECT_EQ(program[j].peer, peer);
        EXPECT_EQ(is_send(program[j].op), sends);
        bundle.push_back(key_of(program[j]));
      }
      result[sends ? std::make_pair(r, peer) : std::make_pair(peer, r)].push_back(bundle);
    }
  }
  return result;
}

TEST(MessageBundles, ComputeActionsAndLoneMessagesStandAlone) {
  const Schedule s = with_communication(generate_1f1b(2, 4));
  for (int r = 0; r < 2; ++r) {
    const std::vector<int> lengths = message_bundles(s, r);
    for (std::size_t i = 0; i < lengths.size(); ++i) {
      if (is_compute(s.programs[static_cast<std::size_t>(r)][i].op)) {
        EXPECT_EQ(lengths[i], 1);
      }
    }
  }
}

TEST(MessageBundles, DualPipeOnTwoRanksSendsBothDirectionsTogetherInTheSteadyState) {
  const Schedule s = with_communication(generate_dualpipe(2, 20));
  const std::vector<Action>& program = s.programs[0];
  const std::vector<int> lengths = message_bundles(s, 0);
  int pairs = 0;
  for (std::size_t i = 0; i + 1 < program.size(); ++i) {
    if (lengths[i] != 2) continue;
    ++pairs;
    EXPECT_EQ(lengths[i + 1], 0);
    EXPECT_EQ(program[i].peer, program[i + 1].peer);
  }
  // Per steady-state step: SEND_F with SEND_B, and RECV_F with RECV_B (8 steps of each).
  EXPECT_GE(pairs, 16);
}

TEST(MessageBundles, BothEndsOfEveryLinkFindTheSameBundles) {
  for (const std::string& name : schedule_names()) {
    for (const auto& [ranks, microbatches] : {std::pair{2, 8}, {4, 16}, {8, 24}}) {
      const Schedule s = with_communication(generate_schedule(name, ranks, microbatches, 2));
      EXPECT_EQ(bundles_by_link(s, true), bundles_by_link(s, false))
          << name << " on " << ranks << " ranks, " << microbatches << " micro-batches";
    }
  }
}

}  // namespace
}  // namespace dualpipe::schedule
